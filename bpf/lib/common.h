/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What every datapath header needs: the kernel's UAPI types, libbpf's helper
 * declarations, the ABI header, and the few constants the headers share. */
#ifndef SLUICE_LIB_COMMON_H
#define SLUICE_LIB_COMMON_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sluice_abi.h"

#define NSEC_PER_SEC 1000000000ULL

/* linux/icmp.h includes libc's socket headers, which do not build for BPF;
 * these are the parts of it the datapath needs (RFC 792). */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest;		/* echo id and sequence, MTU of frag-needed, ... */
};

enum sl_icmp {
	ICMP_ECHOREPLY = 0,
	ICMP_DEST_UNREACH = 3,
	ICMP_ECHO = 8,
	ICMP_TIME_EXCEEDED = 11,
	ICMP_PORT_UNREACH = 3,	/* code of ICMP_DEST_UNREACH */
	ICMP_FRAG_NEEDED = 4,	/* code of ICMP_DEST_UNREACH: path MTU discovery */
};

/* A step that did not decide the packet's fate: the caller goes on. Disjoint
 * from every TC_ACT_* value (TC_ACT_UNSPEC is -1). */
#define SL_NEXT (-1000)

/* Where a program runs; passed as a constant, so each entry program keeps
 * only its own branches once the helpers are inlined. */
enum sl_hook {
	SL_HOOK_FROM_POD = 0,	/* tc ingress of a pod's host-side veth */
	SL_HOOK_TO_POD = 1,	/* tc egress of a pod's host-side veth */
	SL_HOOK_FROM_NETDEV = 2,	/* tc ingress of the node's interface */
};

#endif /* SLUICE_LIB_COMMON_H */

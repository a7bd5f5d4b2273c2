// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Puts every ABI type into this object's BTF, so tools/gen-abi.ts can read
 * the layouts as clang computed them. It holds no program. */
#include "include/sluice_abi.h"

struct sl_abi_types {
	enum sl_map_id map_id;
	enum sl_state_map state_map;
	enum sl_node_map node_map;
	enum sl_ct_flag ct_flag;
	enum sl_ct_state ct_state;
	enum sl_stat stat;
	enum sl_cfg_flag cfg_flag;
	struct sl_config config;
	enum sl_limits limits;
	enum sl_scope scope;
	enum sl_svc_kind kind;
	enum sl_svc_flag svc_flag;
	enum sl_be_flag be_flag;
	struct svc_key svc_key;
	struct svc_val svc_val;
	struct be_key be_key;
	struct be_val be_val;
	struct maglev_key maglev_key;
	struct maglev_val maglev_val;
	struct srcrange_key srcrange_key;
	struct srcrange_val srcrange_val;
	struct svcname_key svcname_key;
	struct svcname_val svcname_val;
	struct ct_key ct_key;
	struct ct_val ct_val;
	struct affinity_key affinity_key;
	struct affinity_val affinity_val;
	struct sockrev_key sockrev_key;
	struct sockrev_val sockrev_val;
	struct stale_sock stale_sock;
	struct podnet_key podnet_key;
	struct podnet_val podnet_val;
	struct stats_key stats_key;
	struct stats_val stats_val;
	enum sl_dir dir;
	enum sl_peer_kind peer_kind;
	enum sl_ipid_flag ipid_flag;
	enum sl_pol_group pol_group;
	enum sl_pol_action pol_action;
	enum sl_polstate_flag polstate_flag;
	enum sl_pol_prefix pol_prefix;
	struct ipid_key ipid_key;
	struct ipid_val ipid_val;
	struct polcidr_key polcidr_key;
	struct polcidr_val polcidr_val;
	struct pol_key pol_key;
	struct pol_val pol_val;
	struct polname_key polname_key;
	struct polname_val polname_val;
	struct polstate_key polstate_key;
	struct polstate_val polstate_val;
	enum sl_dsr dsr;
	struct dsr_opt dsr_opt;
};

struct sl_abi_types sl_abi_types __attribute__((section(".abi"), used));

char LICENSE[] __attribute__((section("license"), used)) = "Dual BSD/GPL";

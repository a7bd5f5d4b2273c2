// The cgroup programs of host services (bpf/lib/sock.h) and where each is
// attached: its enum bpf_attach_type. No I/O, so tests that may not load
// koffi can name them.
export const SOCK_HOOKS = [
  { program: 'sl_connect4', attachType: 10 }, // BPF_CGROUP_INET4_CONNECT
  { program: 'sl_sendmsg4', attachType: 14 }, // BPF_CGROUP_UDP4_SENDMSG
  { program: 'sl_recvmsg4', attachType: 19 }, // BPF_CGROUP_UDP4_RECVMSG
  { program: 'sl_getpeername4', attachType: 29 }, // BPF_CGROUP_INET4_GETPEERNAME
  { program: 'sl_sock_release', attachType: 34 }, // BPF_CGROUP_INET_SOCK_RELEASE
] as const;

export type SockHook = (typeof SOCK_HOOKS)[number];

/** The pin of a program's link: "<pin root>/sl_connect4_link". */
export const linkPin = (pinRoot: string, program: string) => (pinRoot === '' ? `${program}_link` : `${pinRoot}/${program}_link`);

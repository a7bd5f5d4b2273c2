// The record ABI: how the runtime hands normalized Kubernetes objects to the
// compiler. Plain constants, valid as both AssemblyScript and TypeScript, so
// the encoder (runtime/encode/) and the decoder (compiler/reader.ts) import
// the same file. Version 2.
//
// A batch is a sequence of records. Every integer is little-endian.
//   record  := u32 size (whole record, header included) · u8 kind · u8 op ·
//              u16 zero · str namespace · str name · body (upserts only)
//   str     := u16 byte length · UTF-8 bytes
//   list<T> := u16 count · T*
//   ip      := u8 family (4 or 6) · 4 or 16 address bytes, network order
//   cidr    := ip · u8 prefix length
//   labels  := list<str key · str value>, sorted by key
//   selector:= labels matchLabels · list<str key · u8 SEL_* · list<str> values>
//
// Bodies:
//   Service       u8 SVC_TYPE_* · u8 SVCF_* · u16 healthCheckNodePort ·
//                 u32 affinity timeout (s) · u32 creationTimestamp (s since
//                 1970, 0 when unset) · list<ip> clusterIPs ·
//                 list<ip> externalIPs · list<ip> loadBalancer ingress IPs ·
//                 list<cidr> loadBalancerSourceRanges ·
//                 list<str name · u8 proto · u16 port · u16 nodePort ·
//                      u16 targetPort (0 when named) · str targetPort name>
//   EndpointSlice str service name · u8 ADDR_* ·
//                 list<str name · u8 proto · u16 port> ·
//                 list<ip address · u8 COND_* · str nodeName · str zone ·
//                      list<str> hinted zones>
//   Node          list<u8 NODE_ADDR_* · ip> · list<cidr> podCIDRs · labels
//   Pod           str nodeName · u8 PODF_* · list<ip> podIPs · labels ·
//                 list<str name · u8 proto · u16 containerPort>
//   Namespace     labels
//   NetworkPolicy selector podSelector · u8 POLICY_* · list<rule> ingress ·
//                 list<rule> egress
//     rule := list<peer> · list<u8 proto · u16 port (0: any) · u16 endPort
//             (0: none) · str port name>
//     peer := u8 PEER_* · [selector pods] · [selector namespaces] ·
//             [cidr ipBlock · list<cidr> except], present as PEER_* says

export const RECORD_VERSION = 2;
export const RECORD_HEADER_SIZE = 8;

export const KIND_SERVICE = 1;
export const KIND_ENDPOINT_SLICE = 2;
export const KIND_NODE = 3;
export const KIND_POD = 4;
export const KIND_NAMESPACE = 5;
export const KIND_NETWORK_POLICY = 6;

export const OP_UPSERT = 1;
export const OP_DELETE = 2;

export const FAMILY_IPV4 = 4;
export const FAMILY_IPV6 = 6;

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_SCTP = 132;

export const SVC_TYPE_CLUSTER_IP = 0;
export const SVC_TYPE_NODE_PORT = 1;
export const SVC_TYPE_LOAD_BALANCER = 2;
export const SVC_TYPE_EXTERNAL_NAME = 3;

export const SVCF_HEADLESS = 1;
export const SVCF_EXTERNAL_LOCAL = 2;
export const SVCF_INTERNAL_LOCAL = 4;
export const SVCF_AFFINITY = 8;
export const SVCF_PUBLISH_NOT_READY = 16;

export const ADDR_IPV4 = 4;
export const ADDR_IPV6 = 6;
export const ADDR_FQDN = 255;

export const COND_READY = 1;
export const COND_SERVING = 2;
export const COND_TERMINATING = 4;

export const NODE_ADDR_INTERNAL = 1;
export const NODE_ADDR_EXTERNAL = 2;

export const PODF_HOST_NETWORK = 1;
export const PODF_TERMINAL = 2;

export const SEL_IN = 1;
export const SEL_NOT_IN = 2;
export const SEL_EXISTS = 3;
export const SEL_DOES_NOT_EXIST = 4;

export const POLICY_INGRESS = 1;
export const POLICY_EGRESS = 2;

export const PEER_PODS = 1;
export const PEER_NAMESPACES = 2;
export const PEER_IPBLOCK = 4;

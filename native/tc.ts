// The addon's netlink tc functions and the netlink facts of a tc attachment (native/src/core/attach.cc),
// kept beside types.ts while that file is being reworked; the helper reads them through withTc().
import type { Attachment, NativeAddon } from './types';

/** Where a netlink tc filter eBPF Studio added sits, as the helper records it. */
export interface TcFilterRef {
  ifindex: number;
  direction: 'ingress' | 'egress';
  handle: number;
  priority: number;
  /** The program the filter runs: a filter found at the same place with another program is not ours. */
  progId: number;
}

/** A netlink tc filter (kernels before 6.6, or EBPF_STUDIO_FORCE_TC_NETLINK=1 in tests). */
export interface TcNetlinkInfo extends TcFilterRef {
  /** The clsact qdisc was created by this process: the last of its filters to leave removes it if empty. */
  qdiscOurs: boolean;
}

export interface TcFilter {
  direction: 'ingress' | 'egress';
  handle: number;
  priority: number;
  /** The classifier: "bpf", "matchall", "u32", ... */
  kind: string;
  /** bpf filters: the program's id (0 otherwise). */
  progId: number;
  name: string;
}

export interface TcNetlinkAddon {
  /** The interface's clsact qdisc and its filters in both directions, or null when it has no clsact qdisc.
   * `empty` only when nothing at all is on it. Kernel 4.5 (clsact). */
  tcClsact(ifindex: number): { empty: boolean; filters: TcFilter[] } | null;
  /** Removes a filter if it is still there and still runs progId; with destroyQdiscIfEmpty, then removes
   * the clsact qdisc when nothing at all is left on it. */
  tcDetachFilter(filter: TcFilterRef, destroyQdiscIfEmpty: boolean): { removed: boolean; qdiscRemoved: boolean };
}

/** The netlink facts of an attachment: set for a netlink tc filter, undefined for anything else. */
export function tcOf(attachment: Attachment): TcNetlinkInfo | undefined {
  return (attachment as Attachment & { tc?: TcNetlinkInfo }).tc;
}

export function withTc(native: NativeAddon): NativeAddon & TcNetlinkAddon {
  return native as NativeAddon & TcNetlinkAddon;
}

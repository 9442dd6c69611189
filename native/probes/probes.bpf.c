// SPDX-License-Identifier: GPL-2.0
/*
 * Feature probes: one trivial program per program type eBPF Studio offers. The helper loads each one
 * alone and records whether this kernel accepts it and, if not, the errno it gave. Built with the
 * extension (scripts/bundle.js) into dist/probes.bpf.o; UAPI headers only, so no vmlinux.h is needed.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define PROBE(section, name) \
	SEC(section) int name(void *ctx) { return 0; }

PROBE("tracepoint/syscalls/sys_enter_getpid", probe_tracepoint)
PROBE("raw_tracepoint/sys_enter", probe_raw_tracepoint)
PROBE("tp_btf/sched_process_fork", probe_tp_btf)
PROBE("kprobe/do_unlinkat", probe_kprobe)
PROBE("uprobe", probe_uprobe)
PROBE("fentry/do_unlinkat", probe_fentry)
PROBE("fexit/do_unlinkat", probe_fexit)
PROBE("lsm/file_open", probe_lsm)
PROBE("perf_event", probe_perf_event)

SEC("xdp") int probe_xdp(struct xdp_md *ctx) { return XDP_PASS; }
SEC("tc") int probe_tc(struct __sk_buff *skb) { return 0; }
SEC("socket") int probe_socket_filter(struct __sk_buff *skb) { return 0; }
SEC("cgroup_skb/ingress") int probe_cgroup_skb(struct __sk_buff *skb) { return 1; }
SEC("cgroup/sock_create") int probe_cgroup_sock(struct bpf_sock *sk) { return 1; }
SEC("cgroup/connect4") int probe_cgroup_sock_addr(struct bpf_sock_addr *ctx) { return 1; }
SEC("cgroup/getsockopt") int probe_cgroup_sockopt(struct bpf_sockopt *ctx) { return 1; }
SEC("cgroup/sysctl") int probe_cgroup_sysctl(struct bpf_sysctl *ctx) { return 1; }
SEC("sockops") int probe_sock_ops(struct bpf_sock_ops *ctx) { return 1; }
SEC("sk_skb/stream_verdict") int probe_sk_skb(struct __sk_buff *skb) { return SK_PASS; }
SEC("sk_msg") int probe_sk_msg(struct sk_msg_md *msg) { return SK_PASS; }
SEC("sk_lookup") int probe_sk_lookup(struct bpf_sk_lookup *ctx) { return SK_PASS; }
SEC("flow_dissector") int probe_flow_dissector(struct __sk_buff *skb) { return BPF_OK; }
PROBE("iter/task", probe_iter)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} probe_ringbuf SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_ringbuf_output(void *ctx)
{
	__u32 value = 0;

	bpf_ringbuf_output(&probe_ringbuf, &value, sizeof(value), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

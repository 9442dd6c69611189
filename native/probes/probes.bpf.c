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

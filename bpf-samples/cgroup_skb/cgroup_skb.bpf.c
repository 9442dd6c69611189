// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup_skb: packets and bytes in and out, per cgroup (v2). Attached to a cgroup directory, the two
 * programs see the traffic of every socket created by processes in that cgroup and below it; the
 * counters are keyed by the socket's own cgroup, so one attachment at a parent splits the traffic of
 * its children (containers, systemd services). Both return 1: count, never drop.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "cgroup_skb.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGROUP_SKB_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct cgroup_traffic);
} traffic SEC(".maps");

static __always_inline struct cgroup_traffic *counters_for(__u64 cgroup)
{
	struct cgroup_traffic *t = bpf_map_lookup_elem(&traffic, &cgroup);
	struct cgroup_traffic zero = {};

	if (t)
		return t;
	/* Another CPU may insert the same cgroup first: NOEXIST keeps its counts, and we look up again. */
	bpf_map_update_elem(&traffic, &cgroup, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&traffic, &cgroup);
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
	struct cgroup_traffic *t = counters_for(bpf_skb_cgroup_id(skb));

	if (t) {
		__sync_fetch_and_add(&t->ingress_packets, 1);
		__sync_fetch_and_add(&t->ingress_bytes, skb->len);
	}
	return 1;
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	struct cgroup_traffic *t = counters_for(bpf_skb_cgroup_id(skb));

	if (t) {
		__sync_fetch_and_add(&t->egress_packets, 1);
		__sync_fetch_and_add(&t->egress_bytes, skb->len);
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";

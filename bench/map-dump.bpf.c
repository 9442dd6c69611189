// SPDX-License-Identifier: GPL-2.0
// bench/map-dump.bench.ts: hash maps of u32 -> 64-byte struct and u32 -> u64, filled from user space.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct record {
	__u64 hits;
	__u64 bytes;
	__u32 pid;
	__u32 flags;
	char comm[16];
	__u64 last_seen;
	__u64 spare;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1000000);
	__type(key, __u32);
	__type(value, struct record);
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1000000);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* Never attached: it only keeps the map in use by a program, as in real objects. */
SEC("xdp")
int touch_records(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct record *r = bpf_map_lookup_elem(&records, &key);

	__u64 *c = bpf_map_lookup_elem(&counts, &key);

	if (r)
		__sync_fetch_and_add(&r->hits, 1);
	if (c)
		__sync_fetch_and_add(c, 1);
	return XDP_PASS;
}

/* Run by the C tool's "churn" while the map is read: updates random entries, as a busy program does. */
SEC("xdp")
int churn_records(struct xdp_md *ctx)
{
	__u32 key = bpf_get_prandom_u32() % 1000000;
	struct record *r = bpf_map_lookup_elem(&records, &key);

	if (r) {
		__sync_fetch_and_add(&r->hits, 1);
		r->last_seen = bpf_ktime_get_ns();
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

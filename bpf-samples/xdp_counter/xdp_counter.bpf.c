// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_counter: counts packets and bytes per IP protocol arriving on an interface, before the kernel
 * builds an skb for them. Per-CPU counters need no atomics: each CPU adds to its own copy and the
 * map viewer sums them. Frames too short for the headers they claim are dropped (XDP_DROP); the
 * rest pass (XDP_PASS). xdp_counter.bpftest.json runs both cases through BPF_PROG_TEST_RUN.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdp_counter.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_COUNTER_ENTRIES);
	__type(key, __u32);
	__type(value, struct proto_count);
} counters SEC(".maps");

static __always_inline int count(__u32 slot, __u64 bytes, int verdict)
{
	struct proto_count *c = bpf_map_lookup_elem(&counters, &slot);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
	return verdict;
}

SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return count(XDP_COUNTER_MALFORMED, bytes, XDP_DROP);

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return count(XDP_COUNTER_MALFORMED, bytes, XDP_DROP);
		return count(ip->protocol, bytes, XDP_PASS);
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return count(XDP_COUNTER_MALFORMED, bytes, XDP_DROP);
		return count(ip6->nexthdr, bytes, XDP_PASS);
	}
	return count(XDP_COUNTER_NON_IP, bytes, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";

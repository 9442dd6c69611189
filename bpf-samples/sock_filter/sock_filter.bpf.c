// SPDX-License-Identifier: GPL-2.0
/*
 * sock_filter: a socket filter that counts packets and bytes per IP protocol. eBPF Studio attaches it
 * to an AF_PACKET socket on the interface you pick, so it sees every frame in and out of it. A socket
 * filter returns how many bytes the socket keeps: 0, because only the counters matter here.
 *
 * Socket filters cannot read the packet directly; bpf_skb_load_bytes copies the header bytes out.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sock_filter.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_HLEN 14

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SOCK_FILTER_ENTRIES);
	__type(key, __u32);
	__type(value, struct proto_bytes);
} bytes_by_protocol SEC(".maps");

SEC("socket")
int count_bytes(struct __sk_buff *skb)
{
	__u32 slot = SOCK_FILTER_NON_IP;
	struct proto_bytes *c;
	__u8 protocol;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		/* The protocol byte sits 9 bytes into the IPv4 header. */
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 9, &protocol, 1) == 0)
			slot = protocol;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		/* next header: 6 bytes into the IPv6 header. */
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 6, &protocol, 1) == 0)
			slot = protocol;
	}

	c = bpf_map_lookup_elem(&bytes_by_protocol, &slot);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, skb->len);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * tc_blocklist: drops TCP and UDP packets whose destination port is in the hash map `blocked_ports`,
 * on the ingress of an interface (tc, a tcx link on 6.6+). Edit the map from the map viewer while the
 * program runs: adding a port blocks it at once, deleting it lets traffic through again.
 *
 * SEC("tc") rather than "tcx/ingress", which libbpf 1.1 does not know yet: the load dialog asks for
 * the direction, pick ingress.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tc_blocklist.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TC_BLOCKLIST_MAX_PORTS);
	__type(key, __u16);
	__type(value, __u64);
} blocked_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int verdict(__u32 which, int action)
{
	__u64 *n = bpf_map_lookup_elem(&verdicts, &which);

	if (n)
		__sync_fetch_and_add(n, 1);
	return action;
}

/* The destination port of a TCP or UDP header at `l4`, or 0 when there is none. */
static __always_inline __u16 dest_port(void *l4, void *data_end, __u8 protocol)
{
	if (protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) <= data_end)
			return bpf_ntohs(tcp->dest);
	} else if (protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) <= data_end)
			return bpf_ntohs(udp->dest);
	}
	return 0;
}

SEC("tc")
int drop_blocked(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u16 port = 0;
	__u64 *drops;

	if ((void *)(eth + 1) > data_end)
		return verdict(TC_BLOCKLIST_PASSED, TC_ACT_OK);

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return verdict(TC_BLOCKLIST_PASSED, TC_ACT_OK);
		port = dest_port((void *)ip + ip->ihl * 4, data_end, ip->protocol);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return verdict(TC_BLOCKLIST_PASSED, TC_ACT_OK);
		port = dest_port(ip6 + 1, data_end, ip6->nexthdr);
	}

	drops = port ? bpf_map_lookup_elem(&blocked_ports, &port) : 0;
	if (!drops)
		return verdict(TC_BLOCKLIST_PASSED, TC_ACT_OK);
	__sync_fetch_and_add(drops, 1);
	return verdict(TC_BLOCKLIST_DROPPED, TC_ACT_SHOT);
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * verifier_bugs: two programs the kernel's verifier rejects on purpose, to see eBPF Studio put the
 * verifier's message on the offending C line. Written against UAPI headers (<linux/bpf.h>), without
 * vmlinux.h. The README says how to fix each one.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} calls_by_pid SEC(".maps");

/* Bug 1: the value bpf_map_lookup_elem returns may be NULL, and it is used without a check. */
SEC("tracepoint/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 *count;

	count = bpf_map_lookup_elem(&calls_by_pid, &pid);
	*count += 1; /* BUG: map value dereferenced without a NULL check */
	return 0;
}

/* Bug 2: reads the Ethernet header without proving the packet is long enough. */
SEC("xdp")
int drop_ipv6(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;

	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) /* BUG: packet read without a bounds check */
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

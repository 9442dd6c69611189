// SPDX-License-Identifier: GPL-2.0
// bench/printk.bench.ts and test/kernel/trace-pipe-thread.test.ts: every run prints one bpf_printk line
// carrying a sequence number, so a reader of trace_pipe can tell exactly which lines it got. Driven by
// BPF_PROG_TEST_RUN with repeat.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 printed = 0;

SEC("xdp")
int say(struct xdp_md *ctx)
{
	bpf_printk("bench_printk seq=%llu", __sync_fetch_and_add(&printed, 1));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

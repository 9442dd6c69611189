// SPDX-License-Identifier: GPL-2.0
// bench/ringbuf.bench.ts: every run writes one 24-byte event to a ring buffer and counts reserve
// failures (kernel-side losses: the consumer fell behind). Driven by BPF_PROG_TEST_RUN with repeat.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bench_event {
	__u64 seq;
	__u32 cpu;
	__u32 len;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} bench_events SEC(".maps");

struct bench_event *unused_bench_event __attribute__((unused));

__u64 produced = 0;
__u64 reserve_failed = 0;

SEC("xdp")
int produce(struct xdp_md *ctx)
{
	struct bench_event *e = bpf_ringbuf_reserve(&bench_events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&reserve_failed, 1);
		return XDP_PASS;
	}
	e->seq = __sync_fetch_and_add(&produced, 1);
	e->cpu = bpf_get_smp_processor_id();
	e->len = ctx->data_end - ctx->data;
	e->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

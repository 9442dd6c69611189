// SPDX-License-Identifier: GPL-2.0
// bench/ringbuf.bench.ts and bench/perf.bench.ts: every run writes one 24-byte event, to a ring buffer
// (produce) or to a perf event array (produce_perf), and counts the writes that failed (kernel-side losses:
// the consumer fell behind). Driven by BPF_PROG_TEST_RUN with repeat.
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
	__uint(max_entries, 64 * 1024 * 1024);
} bench_events SEC(".maps");

/* One buffer per CPU; libbpf sizes the array to the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} bench_perf SEC(".maps");

struct bench_event *unused_bench_event __attribute__((unused));

__u64 produced = 0;
__u64 reserve_failed = 0;
__u64 perf_produced = 0;
__u64 perf_failed = 0;

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

SEC("xdp")
int produce_perf(struct xdp_md *ctx)
{
	struct bench_event e = {
		.seq = perf_produced,
		.cpu = bpf_get_smp_processor_id(),
		.len = ctx->data_end - ctx->data,
		.ts = bpf_ktime_get_ns(),
	};

	/* A full per-CPU buffer fails the write (-ENOSPC) and the kernel counts a lost sample. */
	if (bpf_perf_event_output(ctx, &bench_perf, BPF_F_CURRENT_CPU, &e, sizeof(e)))
		__sync_fetch_and_add(&perf_failed, 1);
	else
		__sync_fetch_and_add(&perf_produced, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

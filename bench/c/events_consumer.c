// SPDX-License-Identifier: MIT
// The plain libbpf baseline for bench/ringbuf.bench.ts and bench/perf.bench.ts: consumes a ring buffer
// (ring_buffer__poll) or a perf event array (perf_buffer__poll, PAGES pages per CPU) by map id while a
// second thread drives the producer program with BPF_PROG_TEST_RUN, and prints {"received", "lost", "ms"}
// as JSON: events that reached user space, perf lost samples the kernel reported (0 for a ring buffer),
// and the time until the last event arrived.
// "produce" only drives the program, for consumers in other processes (eBPF Studio's helper, cat), with
// GAP_US microseconds between runs when given (a paced producer).
// "drain" reads a ring buffer filled beforehand, with no producer running: the consumer's own speed, which
// no wakeup of the producer's side slows (see bench/event-flow.ts). It stops at COUNT events (0: when
// nothing came for 100 ms) and prints {"received", "ms"}, ms from before the consumer is set up to the
// last event.
//   events_consumer consume MAP_ID PROG_ID REPEAT RUNS [PAGES]
//   events_consumer produce PROG_ID REPEAT RUNS [GAP_US]
//   events_consumer drain MAP_ID COUNT
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int producing = 1;
static unsigned long long received, lost, checksum;
static int prog_fd, repeat, runs, gap_us;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int on_event(void *ctx, void *data, size_t size)
{
	received++;
	checksum += *(unsigned long long *)data;
	return 0;
}

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	on_event(ctx, data, size);
}

static void on_lost(void *ctx, int cpu, __u64 count)
{
	lost += count;
}

static void *produce(void *arg)
{
	unsigned char packet[64] = {0};
	for (int i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet), .repeat = repeat);
		if (bpf_prog_test_run_opts(prog_fd, &opts))
			fprintf(stderr, "test run: %s\n", strerror(errno));
		if (gap_us && i + 1 < runs) {
			struct timespec gap = {gap_us / 1000000, (gap_us % 1000000) * 1000L};
			nanosleep(&gap, NULL);
		}
	}
	atomic_store(&producing, 0);
	return NULL;
}

static int drain(int map_fd, unsigned long long count)
{
	double start = now_ms(), last = start;
	struct ring_buffer *rb = ring_buffer__new(map_fd, on_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "consumer: %s\n", strerror(errno));
		return 1;
	}
	while (!count || received < count) {
		int n = ring_buffer__poll(rb, 100);
		if (n < 0) {
			fprintf(stderr, "poll: %s\n", strerror(-n));
			break;
		}
		if (n == 0 && now_ms() - last > (count ? 1000 : 100))
			break;
		if (n > 0)
			last = now_ms();
	}
	printf("{\"received\": %llu, \"ms\": %.3f}\n", received, last - start);
	ring_buffer__free(rb);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "drain")) {
		int map_fd = bpf_map_get_fd_by_id(atoi(argv[2]));
		if (map_fd < 0) {
			fprintf(stderr, "map %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		return drain(map_fd, strtoull(argv[3], NULL, 10));
	}
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "produce")) {
		prog_fd = bpf_prog_get_fd_by_id(atoi(argv[2]));
		repeat = atoi(argv[3]);
		runs = atoi(argv[4]);
		gap_us = argc == 6 ? atoi(argv[5]) : 0;
		if (prog_fd < 0) {
			fprintf(stderr, "program %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		produce(NULL);
		return 0;
	}
	if ((argc != 6 && argc != 7) || strcmp(argv[1], "consume")) {
		fprintf(stderr, "usage: %s consume MAP_ID PROG_ID REPEAT RUNS [PAGES] | produce PROG_ID REPEAT RUNS [GAP_US] | "
			"drain MAP_ID COUNT\n",
			argv[0]);
		return 2;
	}
	int map_fd = bpf_map_get_fd_by_id(atoi(argv[2]));
	prog_fd = bpf_prog_get_fd_by_id(atoi(argv[3]));
	repeat = atoi(argv[4]);
	runs = atoi(argv[5]);
	size_t pages = argc == 7 ? strtoul(argv[6], NULL, 10) : 64;
	if (map_fd < 0 || prog_fd < 0) {
		fprintf(stderr, "map or program: %s\n", strerror(errno));
		return 1;
	}
	struct bpf_map_info info = {0};
	__u32 info_len = sizeof(info);
	if (bpf_obj_get_info_by_fd(map_fd, &info, &info_len)) {
		fprintf(stderr, "map info: %s\n", strerror(errno));
		return 1;
	}
	struct ring_buffer *rb = NULL;
	struct perf_buffer *pb = NULL;
	if (info.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		pb = perf_buffer__new(map_fd, pages, on_sample, on_lost, NULL, NULL);
	else
		rb = ring_buffer__new(map_fd, on_event, NULL, NULL);
	if (!rb && !pb) {
		fprintf(stderr, "consumer: %s\n", strerror(errno));
		return 1;
	}
	pthread_t producer;
	double start = now_ms(), last = start;
	pthread_create(&producer, NULL, produce, NULL);
	for (;;) {
		int n = rb ? ring_buffer__poll(rb, 100) : perf_buffer__poll(pb, 100);
		if (n > 0)
			last = now_ms();
		if (n == 0 && !atomic_load(&producing))
			break;
	}
	pthread_join(producer, NULL);
	printf("{\"received\": %llu, \"lost\": %llu, \"ms\": %.3f}\n", received, lost, last - start);
	ring_buffer__free(rb);
	perf_buffer__free(pb);
	return 0;
}

// SPDX-License-Identifier: MIT
// The plain libbpf baseline for bench/ringbuf.bench.ts: consumes a ring buffer by map id with
// ring_buffer__poll while a second thread drives the producer program with BPF_PROG_TEST_RUN, and prints
// {"received", "ms"} as JSON: events that reached user space and the time until the last one did.
// "produce" only drives the program, for consumers in other processes (eBPF Studio's helper).
//   ringbuf_consumer consume MAP_ID PROG_ID REPEAT RUNS
//   ringbuf_consumer produce PROG_ID REPEAT RUNS
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
static unsigned long long received, checksum;
static int prog_fd, repeat, runs;

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

static void *produce(void *arg)
{
	unsigned char packet[64] = {0};
	for (int i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet), .repeat = repeat);
		if (bpf_prog_test_run_opts(prog_fd, &opts))
			fprintf(stderr, "test run: %s\n", strerror(errno));
	}
	atomic_store(&producing, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "produce")) {
		prog_fd = bpf_prog_get_fd_by_id(atoi(argv[2]));
		repeat = atoi(argv[3]);
		runs = atoi(argv[4]);
		if (prog_fd < 0) {
			fprintf(stderr, "program %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		produce(NULL);
		return 0;
	}
	if (argc != 6 || strcmp(argv[1], "consume")) {
		fprintf(stderr, "usage: %s consume MAP_ID PROG_ID REPEAT RUNS | produce PROG_ID REPEAT RUNS\n", argv[0]);
		return 2;
	}
	int map_fd = bpf_map_get_fd_by_id(atoi(argv[2]));
	prog_fd = bpf_prog_get_fd_by_id(atoi(argv[3]));
	repeat = atoi(argv[4]);
	runs = atoi(argv[5]);
	if (map_fd < 0 || prog_fd < 0) {
		fprintf(stderr, "map or program: %s\n", strerror(errno));
		return 1;
	}
	struct ring_buffer *rb = ring_buffer__new(map_fd, on_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "ring_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	pthread_t producer;
	double start = now_ms(), last = start;
	pthread_create(&producer, NULL, produce, NULL);
	for (;;) {
		int n = ring_buffer__poll(rb, 100);
		if (n > 0)
			last = now_ms();
		if (n == 0 && !atomic_load(&producing))
			break;
	}
	pthread_join(producer, NULL);
	printf("{\"received\": %llu, \"ms\": %.3f}\n", received, last - start);
	ring_buffer__free(rb);
	return 0;
}

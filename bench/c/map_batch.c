// SPDX-License-Identifier: MIT
// The plain libbpf baseline for bench/map-dump.bench.ts: fills a hash map by id with batch updates, or
// reads it all with batch lookups (what a hand-written tool would do) and prints {"count", "ms"} as JSON.
//   map_batch fill MAP_ID N      keys 0..N-1, values: bytes derived from the key
//   map_batch read MAP_ID        reads every entry, 65536 per batch
//   map_batch churn PROG_ID S    runs an XDP program with BPF_PROG_TEST_RUN for S seconds (a program that
//                                updates the map while it is read), prints {"runs", "ms"}
// The value size is the map's own (bpf_obj_get_info_by_fd).
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 65536

static size_t VALUE_SIZE = 64;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fill(int fd, unsigned n)
{
	unsigned *keys = malloc(sizeof(*keys) * BATCH);
	unsigned char *values = malloc((size_t)VALUE_SIZE * BATCH);
	for (unsigned start = 0; start < n; start += BATCH) {
		unsigned count = n - start < BATCH ? n - start : BATCH;
		for (unsigned i = 0; i < count; i++) {
			keys[i] = start + i;
			for (size_t b = 0; b < VALUE_SIZE; b++)
				values[(size_t)i * VALUE_SIZE + b] = (unsigned char)(keys[i] * 31 + b);
		}
		if (bpf_map_update_batch(fd, keys, values, &count, NULL)) {
			fprintf(stderr, "bpf_map_update_batch: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("{\"count\": %u}\n", n);
	return 0;
}

static int read_all(int fd)
{
	unsigned *keys = malloc(sizeof(*keys) * BATCH);
	unsigned char *values = malloc((size_t)VALUE_SIZE * BATCH);
	unsigned long long checksum = 0, total = 0;
	unsigned in = 0, out = 0;
	double start = now_ms();
	for (int first = 1;; first = 0) {
		unsigned count = BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, values, &count, NULL);
		if (err && errno != ENOENT) {
			fprintf(stderr, "bpf_map_lookup_batch: %s\n", strerror(errno));
			return 1;
		}
		total += count;
		// Touch what was read, as any consumer would.
		for (unsigned i = 0; i < count; i++)
			checksum += keys[i] + values[(size_t)i * VALUE_SIZE];
		if (err)
			break;
		in = out;
	}
	printf("{\"count\": %llu, \"ms\": %.3f, \"checksum\": %llu}\n", total, now_ms() - start, checksum);
	return 0;
}

static int churn(int prog_id, double seconds)
{
	int fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0) {
		fprintf(stderr, "program %d: %s\n", prog_id, strerror(errno));
		return 1;
	}
	unsigned char packet[64] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet), .repeat = 10000);
	double start = now_ms();
	unsigned long long runs = 0;
	while (now_ms() - start < seconds * 1e3) {
		if (bpf_prog_test_run_opts(fd, &opts)) {
			fprintf(stderr, "test run: %s\n", strerror(errno));
			return 1;
		}
		runs += opts.repeat;
	}
	printf("{\"runs\": %llu, \"ms\": %.3f}\n", runs, now_ms() - start);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "churn"))
		return churn(atoi(argv[2]), atof(argv[3]));
	if (argc < 3) {
		fprintf(stderr, "usage: %s fill MAP_ID N | read MAP_ID\n", argv[0]);
		return 2;
	}
	int fd = bpf_map_get_fd_by_id(atoi(argv[2]));
	if (fd < 0) {
		fprintf(stderr, "map %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		VALUE_SIZE = info.value_size;
	if (!strcmp(argv[1], "fill") && argc == 4)
		return fill(fd, (unsigned)atoi(argv[3]));
	if (!strcmp(argv[1], "read"))
		return read_all(fd);
	fprintf(stderr, "usage: %s fill MAP_ID N | read MAP_ID\n", argv[0]);
	return 2;
}

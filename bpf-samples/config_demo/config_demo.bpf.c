// SPDX-License-Identifier: GPL-2.0
/*
 * config_demo: settings chosen at load time. `const volatile` globals live in .rodata; libbpf lets
 * the loader change them before the program is verified, and the verifier then treats them as
 * constants (a disabled branch costs nothing). eBPF Studio's load dialog asks for each of them.
 *
 * The program counts write(2) calls of at least `min_bytes` bytes, per process, for one process
 * (`target_pid`) or for all (0), and prints each when `verbose` is set.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "config_demo.h"

/* Only this process (its pid, the tgid); 0 = every process. */
const volatile __u32 target_pid = 0;
/* Ignore writes smaller than this many bytes. */
const volatile __u64 min_bytes = 1;
/* Print each counted write to the trace output. */
const volatile bool verbose = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONFIG_DEMO_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct write_stats);
} writes_by_pid SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_write")
int count_writes(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 count = ctx->args[2];
	struct write_stats *s, first = { .writes = 1, .bytes = count };

	if (target_pid && pid != target_pid)
		return 0;
	if (count < min_bytes)
		return 0;

	s = bpf_map_lookup_elem(&writes_by_pid, &pid);
	if (s) {
		__sync_fetch_and_add(&s->writes, 1);
		__sync_fetch_and_add(&s->bytes, count);
	} else {
		bpf_map_update_elem(&writes_by_pid, &pid, &first, BPF_NOEXIST);
	}
	if (verbose)
		bpf_printk("config_demo: pid %d wrote %llu bytes", pid, count);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

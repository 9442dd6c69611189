// SPDX-License-Identifier: GPL-2.0
/*
 * syscall_latency: how long each system call takes, as a log2 histogram per syscall number.
 *
 * Raw tracepoints sys_enter and sys_exit see every syscall of every task (the raw form skips the
 * per-syscall tracepoint records, so it is the cheap way to watch all of them). sys_enter remembers
 * the syscall and the time per thread; sys_exit adds the elapsed time to the slot
 * (syscall, log2(ns)) of the hash map `latency`, which the map viewer shows as a table.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "syscall_latency.h"

struct start {
	__u64 ns;
	__u32 syscall;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* pid_tgid: one syscall in flight per thread */
	__type(value, struct start);
} in_flight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SYSCALL_LATENCY_MAX_KEYS);
	__type(key, struct latency_key);
	__type(value, __u64);
} latency SEC(".maps");

/* Set before load to measure one process only (0 = every process). */
const volatile __u32 target_tgid = 0;

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	/* Binary search over the bit positions: no loop for the verifier to bound. */
	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

SEC("raw_tracepoint/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct start s;

	if (target_tgid && (id >> 32) != target_tgid)
		return 0;
	s.ns = bpf_ktime_get_ns();
	s.syscall = (__u32)ctx->args[1];
	bpf_map_update_elem(&in_flight, &id, &s, BPF_ANY);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int on_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct latency_key key;
	struct start *s;
	__u64 one = 1, *count;
	__u32 slot;

	s = bpf_map_lookup_elem(&in_flight, &id);
	if (!s)
		return 0;
	slot = log2_u64(bpf_ktime_get_ns() - s->ns);
	key.syscall = s->syscall;
	key.slot = slot < SYSCALL_LATENCY_SLOTS ? slot : SYSCALL_LATENCY_SLOTS - 1;
	bpf_map_delete_elem(&in_flight, &id);

	count = bpf_map_lookup_elem(&latency, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&latency, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

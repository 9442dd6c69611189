// SPDX-License-Identifier: GPL-2.0
/*
 * uprobe_malloc: a histogram of the sizes programs ask malloc for, and how often malloc fails.
 *
 * A uprobe on libc's malloc sees the requested size (first argument); the uretprobe sees the returned
 * pointer. The size waits in `pending` (per thread) between the two, so only calls that returned are
 * counted, together with whether they failed. The load dialog asks for the binary and function, e.g.
 * /lib/x86_64-linux-gnu/libc.so.6:malloc (the same for both programs).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "uprobe_malloc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, __u64); /* requested size */
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UPROBE_MALLOC_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} outcomes SEC(".maps");

/* Set before load to ignore allocations smaller than this many bytes. */
const volatile __u64 min_size = 0;

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline void add(void *map, __u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(map, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, __u64 size)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (size < min_size)
		return 0;
	bpf_map_update_elem(&pending, &id, &size, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(malloc_exit, void *ptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *size = bpf_map_lookup_elem(&pending, &id);

	if (!size)
		return 0;
	add(&sizes, log2_u64(*size) & (UPROBE_MALLOC_SLOTS - 1));
	add(&outcomes, ptr ? UPROBE_MALLOC_RETURNED : UPROBE_MALLOC_FAILED);
	bpf_map_delete_elem(&pending, &id);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

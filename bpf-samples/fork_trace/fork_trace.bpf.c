// SPDX-License-Identifier: GPL-2.0
/*
 * fork_trace: counts forks per parent pid and prints each one.
 *
 * The tracepoint sched/sched_process_fork fires in the parent whenever a process forks; the hash map
 * `forks_by_parent` (parent pid -> number of forks) is what the Maps view shows, and the bpf_printk
 * line is what the Trace Output panel shows.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "fork_trace.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FORK_TRACE_MAX_PARENTS);
	__type(key, __u32);
	__type(value, __u64);
} forks_by_parent SEC(".maps");

/* Set before load to count only the children of one parent (0 = every parent). */
const volatile __u32 parent_filter = 0;

SEC("tracepoint/sched/sched_process_fork")
int trace_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	__u32 parent = ctx->parent_pid;
	__u64 one = 1, *count;

	if (parent_filter && parent != parent_filter)
		return 0;

	count = bpf_map_lookup_elem(&forks_by_parent, &parent);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&forks_by_parent, &parent, &one, BPF_NOEXIST);

	bpf_printk("fork parent=%d child=%d", parent, ctx->child_pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

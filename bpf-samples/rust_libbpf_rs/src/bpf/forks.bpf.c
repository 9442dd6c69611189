// SPDX-License-Identifier: GPL-2.0
/*
 * forks: the BPF side of a libbpf-rs crate. Counts forks per parent pid in `forks_by_parent` and sends
 * one `struct fork_event` per fork through the ring buffer `events`; src/main.rs loads it through the
 * skeleton libbpf-cargo generates from this file (build.rs), sets `parent_filter`, and prints both.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16

struct fork_event {
	__u32 parent;
	__u32 child;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} forks_by_parent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

/* Set by the loader before load to follow one parent (0: every parent). */
const volatile __u32 parent_filter = 0;

/* Events the ring buffer had no room for; the loader reads it from .bss. */
__u64 dropped = 0;

SEC("tracepoint/sched/sched_process_fork")
int count_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	__u32 parent = ctx->parent_pid;
	__u64 one = 1, *count;
	struct fork_event *event;

	if (parent_filter && parent != parent_filter)
		return 0;

	count = bpf_map_lookup_elem(&forks_by_parent, &parent);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&forks_by_parent, &parent, &one, BPF_NOEXIST);

	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	event->parent = parent;
	event->child = ctx->child_pid;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	bpf_ringbuf_submit(event, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

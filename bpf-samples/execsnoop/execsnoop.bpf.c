// SPDX-License-Identifier: GPL-2.0
/*
 * execsnoop: one event per successful exec (pid, parent pid, uid, command name, file name), sent to
 * user space through a ring buffer, in the spirit of bcc's execsnoop.
 *
 * The tracepoint sched/sched_process_exec fires after the new program replaced the old one, so comm
 * is already the new command's name. The parent is read with CO-RE from task->real_parent, which
 * works on any kernel with BTF whatever the layout of task_struct.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "execsnoop.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} exec_events SEC(".maps");

/*
 * Ring buffers have no type of their own: this unused global puts struct exec_event into the object's BTF,
 * so tools (eBPF Studio's trace panel, bpftool btf dump) can decode the events of exec_events.
 */
struct exec_event *unused_exec_event __attribute__((unused));

/* Events the ring buffer had no room for: the ring buffer does not count its own losses. */
__u64 dropped = 0;

/* Set before load to report only execs by one user (-1 = everyone). */
const volatile __s64 uid_filter = -1;

SEC("tracepoint/sched/sched_process_exec")
int trace_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct exec_event *e;
	unsigned int name_at;
	long len;

	if (uid_filter >= 0 && uid != (__u32)uid_filter)
		return 0;

	e = bpf_ringbuf_reserve(&exec_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = uid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* __data_loc: the low 16 bits are the string's offset inside the tracepoint record. */
	name_at = ctx->__data_loc_filename & 0xFFFF;
	len = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + name_at);
	e->filename_len = len > 0 ? len - 1 : 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

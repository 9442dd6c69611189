// SPDX-License-Identifier: GPL-2.0
/*
 * container_guard: in the spirit of lockc, a BPF LSM policy for containers. Processes in a marked
 * cgroup (a container's) may not mount sensitive host paths (/proc, /sys, /dev, /etc, /run, /root,
 * /boot, /var/run) into their tree, and may not chroot; everyone else is untouched. Each denial is
 * reported through the ring buffer `denials`.
 *
 * LSM programs need a kernel with CONFIG_BPF_LSM and "bpf" in the lsm= list, and a security policy
 * that lets root load them. Where the kernel refuses them, eBPF Studio says so when you load this.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "container_guard.h"

#define EPERM 1

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONTAINER_GUARD_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, __u32);
} guarded_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} denials SEC(".maps");

/*
 * Ring buffers have no type of their own: this unused global puts struct guard_event into the object's BTF,
 * so tools (eBPF Studio's trace panel, bpftool btf dump) can decode the events of denials.
 */
struct guard_event *unused_guard_event __attribute__((unused));

/* Set before load to log denials with bpf_printk as well (0 = ring buffer only). */
const volatile __u32 printk_denials = 0;

static __always_inline bool guarded(__u64 *cgroup)
{
	*cgroup = bpf_get_current_cgroup_id();
	return bpf_map_lookup_elem(&guarded_cgroups, cgroup) != 0;
}

/* Does `path` start with the directory `dir` (the whole of it: "/proc" matches "/proc/1", not "/procx")? */
static __always_inline bool under(const char *path, const char *dir, int len)
{
	for (int i = 0; i < len; i++)
		if (path[i] != dir[i])
			return false;
	return path[len] == '\0' || path[len] == '/';
}

static __always_inline bool sensitive(const char *p)
{
	return under(p, "/proc", 5) || under(p, "/sys", 4) || under(p, "/dev", 4) || under(p, "/etc", 4) ||
	       under(p, "/run", 4) || under(p, "/root", 5) || under(p, "/boot", 5) || under(p, "/var/run", 8) ||
	       under(p, "/", 1);
}

static __always_inline int deny(__u64 cgroup, enum guard_action action, const char *path)
{
	struct guard_event *e = bpf_ringbuf_reserve(&denials, sizeof(*e), 0);

	if (e) {
		e->cgroup = cgroup;
		e->pid = bpf_get_current_pid_tgid() >> 32;
		e->action = action;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		__builtin_memcpy(e->path, path, sizeof(e->path));
		bpf_ringbuf_submit(e, 0);
	}
	if (printk_denials)
		bpf_printk("container_guard: denied %s of %s", action == GUARD_DENIED_MOUNT ? "mount" : "chroot", path);
	return -EPERM;
}

SEC("lsm/sb_mount")
int BPF_PROG(deny_sensitive_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	char source[CONTAINER_GUARD_PATH_LEN] = {};
	__u64 cgroup;

	/* Another LSM already said no: keep its answer. */
	if (ret)
		return ret;
	if (!dev_name || !guarded(&cgroup))
		return 0;
	if (bpf_probe_read_kernel_str(source, sizeof(source), dev_name) <= 0)
		return 0;
	/* Bind mounts name a host path as their source; "proc", "tmpfs" and the like do not start with '/'. */
	if (source[0] == '/' && sensitive(source))
		return deny(cgroup, GUARD_DENIED_MOUNT, source);
	return 0;
}

SEC("lsm/path_chroot")
int BPF_PROG(deny_chroot, const struct path *path, int ret)
{
	char where[CONTAINER_GUARD_PATH_LEN] = {};
	__u64 cgroup;

	if (ret)
		return ret;
	if (!guarded(&cgroup))
		return 0;
	BPF_CORE_READ_STR_INTO(&where, path, dentry, d_name.name);
	return deny(cgroup, GUARD_DENIED_CHROOT, where);
}

char LICENSE[] SEC("license") = "GPL";

/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by container_guard.bpf.c and its test: the marked-cgroup map and the denial events. */
#ifndef CONTAINER_GUARD_H
#define CONTAINER_GUARD_H

#define CONTAINER_GUARD_MAX_CGROUPS 1024
#define CONTAINER_GUARD_PATH_LEN 64

/*
 * guarded_cgroups: key = cgroup v2 id (__u64, the inode number of its directory), value = __u32 1.
 * Processes whose cgroup is in the map may not bind-mount sensitive host paths or chroot.
 */

enum guard_action {
	GUARD_DENIED_MOUNT = 1,
	GUARD_DENIED_CHROOT = 2,
};

/* Layout (little endian): cgroup @0, pid @8, action @12, comm @16, path @32. */
struct guard_event {
	__u64 cgroup;
	__u32 pid;
	__u32 action;
	char comm[16];
	char path[CONTAINER_GUARD_PATH_LEN];
};

#endif

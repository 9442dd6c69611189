/* SPDX-License-Identifier: GPL-2.0 */
/* The event execsnoop.bpf.c sends through its ring buffer; the kernel test decodes the same layout. */
#ifndef EXECSNOOP_H
#define EXECSNOOP_H

#define EXECSNOOP_COMM_LEN 16
#define EXECSNOOP_FILENAME_LEN 256

/* Layout (little endian): pid @0, ppid @4, uid @8, filename_len @12, comm @16, filename @32. */
struct exec_event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 filename_len;
	char comm[EXECSNOOP_COMM_LEN];
	char filename[EXECSNOOP_FILENAME_LEN];
};

#endif

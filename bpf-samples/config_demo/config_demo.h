/* SPDX-License-Identifier: GPL-2.0 */
/* The per-process counters of config_demo.bpf.c, shared with its test. */
#ifndef CONFIG_DEMO_H
#define CONFIG_DEMO_H

#define CONFIG_DEMO_MAX_PIDS 1024

/* Key: pid (__u32). Layout: writes @0, bytes @8 (little endian). */
struct write_stats {
	__u64 writes;
	__u64 bytes;
};

#endif

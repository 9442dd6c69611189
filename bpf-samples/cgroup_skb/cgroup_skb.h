/* SPDX-License-Identifier: GPL-2.0 */
/* The per-cgroup counters, shared by cgroup_skb.bpf.c and its test. */
#ifndef CGROUP_SKB_H
#define CGROUP_SKB_H

#define CGROUP_SKB_MAX_CGROUPS 4096

/* Key: the cgroup v2 id (__u64, the inode number of its directory). Layout: four __u64 in this order. */
struct cgroup_traffic {
	__u64 ingress_packets;
	__u64 ingress_bytes;
	__u64 egress_packets;
	__u64 egress_bytes;
};

#endif

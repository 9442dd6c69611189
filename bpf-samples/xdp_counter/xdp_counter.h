/* SPDX-License-Identifier: GPL-2.0 */
/* Indexes of xdp_counter's per-CPU array, shared by xdp_counter.bpf.c, its packet tests and its test. */
#ifndef XDP_COUNTER_H
#define XDP_COUNTER_H

/* Entries 0..255 count IPv4/IPv6 packets by IP protocol (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6, ...). */
#define XDP_COUNTER_NON_IP 256    /* ARP and everything else that is not IP */
#define XDP_COUNTER_MALFORMED 257 /* too short for the headers it claims: dropped */
#define XDP_COUNTER_ENTRIES 258

/* One entry per CPU; user space adds the CPUs up. Layout: packets @0, bytes @8. */
struct proto_count {
	__u64 packets;
	__u64 bytes;
};

#endif

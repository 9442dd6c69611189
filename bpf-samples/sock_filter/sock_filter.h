/* SPDX-License-Identifier: GPL-2.0 */
/* Indexes and value of sock_filter's array, shared by sock_filter.bpf.c and its test. */
#ifndef SOCK_FILTER_H
#define SOCK_FILTER_H

/* Entries 0..255 count IPv4/IPv6 packets by IP protocol; 256 counts everything else (ARP, ...). */
#define SOCK_FILTER_NON_IP 256
#define SOCK_FILTER_ENTRIES 257

/* Layout: packets @0, bytes @8 (little endian). */
struct proto_bytes {
	__u64 packets;
	__u64 bytes;
};

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The blocklist's key and value, shared by tc_blocklist.bpf.c, its packet tests and its test. */
#ifndef TC_BLOCKLIST_H
#define TC_BLOCKLIST_H

#define TC_BLOCKLIST_MAX_PORTS 1024

/*
 * blocked_ports: key = destination port in host byte order (__u16, what you type in the map viewer),
 * value = packets dropped for it so far (__u64, start it at 0).
 */

/* Indexes of the `verdicts` array: how many packets passed and how many were dropped. */
#define TC_BLOCKLIST_PASSED 0
#define TC_BLOCKLIST_DROPPED 1

#endif

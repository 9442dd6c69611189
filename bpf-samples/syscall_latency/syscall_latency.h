/* SPDX-License-Identifier: GPL-2.0 */
/* The histogram's key and its slots, shared by syscall_latency.bpf.c and the test that reads it. */
#ifndef SYSCALL_LATENCY_H
#define SYSCALL_LATENCY_H

/* Slot n counts calls that took [2^n, 2^(n+1)) nanoseconds; slot 0 also holds 0 and 1 ns. */
#define SYSCALL_LATENCY_SLOTS 40
#define SYSCALL_LATENCY_MAX_KEYS 16384

/* Layout (little endian): syscall @0, slot @4. */
struct latency_key {
	__u32 syscall;
	__u32 slot;
};

#endif

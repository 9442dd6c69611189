/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by fork_trace.bpf.c and the tests that read its map. */
#ifndef FORK_TRACE_H
#define FORK_TRACE_H

#define FORK_TRACE_MAX_PARENTS 10240

#endif

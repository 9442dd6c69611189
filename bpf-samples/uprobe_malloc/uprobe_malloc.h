/* SPDX-License-Identifier: GPL-2.0 */
/* The histogram's slots, shared by uprobe_malloc.bpf.c and its test. */
#ifndef UPROBE_MALLOC_H
#define UPROBE_MALLOC_H

/* sizes[n] counts malloc calls asking for [2^n, 2^(n+1)) bytes; sizes[0] also counts malloc(0). */
#define UPROBE_MALLOC_SLOTS 64

/* Indexes of the `outcomes` array. */
#define UPROBE_MALLOC_RETURNED 0 /* malloc returned memory */
#define UPROBE_MALLOC_FAILED 1   /* malloc returned NULL */

#endif

// Core layer: every bound the addon puts on memory and work, in one place. Each refusal names its
// limit in its message; native/types.ts NativeLimits mirrors these (limits() in the binding).
#pragma once

#include <cstddef>
#include <cstdint>

namespace core {

constexpr size_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

// One page of a map read (keys + values, per-CPU values for every possible CPU): at most this many
// bytes, and never more entries than the map's max_entries. A single entry larger than this is still
// read alone.
constexpr size_t kMaxPageBytes = 4 * MiB;
// A batch lookup needs room for a whole hash bucket; the page may grow to this to take one.
constexpr size_t kMaxBucketPageBytes = 16 * MiB;

// A max_entries override may make a map preallocate at most this much (max_entries x (key + value),
// value x possible CPUs for per-CPU maps; ring buffers: max_entries bytes).
constexpr uint64_t kMaxOverridePreallocBytes = 1 * GiB;

// A verifier log buffer grows (on ENOSPC) up to this size per program, well under V8's maximum
// string length; longer logs are cut there and the load says so.
constexpr size_t kMaxVerifierLogBytes = 64 * MiB;

// Perf buffer pages per CPU (a power of two); each page is locked kernel memory.
constexpr uint32_t kMaxPerfPagesPerCpu = 256;

// BTF resolution: nodes of one resolved tree, and of all trees of one call (describe, struct types).
// Past either, structs already given in the tree become {kind: "ref"} and others are not expanded.
// The call budget also bounds the JS thread's work converting the answer (about 10 us a node).
constexpr size_t kBtfTreeNodes = 4096;
constexpr size_t kBtfCallNodes = 16384;
// Nesting deeper than this is {kind: "unknown"} (also bounds the C++ stack).
constexpr int kBtfMaxDepth = 32;

// describe: a variable's initial bytes are given when it is at most this big (and while all given so
// far stay within kMaxInitialBytesTotal); a bigger one (a 4 GiB .bss array) has none.
constexpr size_t kMaxVariableInitialBytes = 1 * MiB;
constexpr size_t kMaxInitialBytesTotal = 16 * MiB;

// Object structs returned by object_struct_types().
constexpr size_t kMaxStructs = 4096;

} // namespace core

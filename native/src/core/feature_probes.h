// Core layer: feature probes that need no object file: can this kernel create a map of a type, and
// does the verifier offer a helper to a program type?
#pragma once

#include <string>
#include <vector>

namespace core {

// The helpers probe_helper knows, without the bpf_ prefix.
std::vector<std::string> probe_helper_names();
// 1: supported; 0: the kernel does not know it; negative: -errno of the refusal.
int probe_map_type(const std::string &type);
int probe_helper(const std::string &prog_type, const std::string &helper);

} // namespace core

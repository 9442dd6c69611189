// Core layer: names of kernel enums (lower case, without the BPF_*_TYPE_ prefix), the per-CPU map
// types, interface names and the libbpf version. libbpf 1.1 does not know types added after it, so a
// small table of newer kernels' values backs it up.
#pragma once

#include <cstdint>
#include <string>

namespace core {

std::string prog_type_name(unsigned t);
std::string map_type_name(unsigned t);
std::string attach_type_name(unsigned t);
std::string link_type_name(unsigned t);
bool map_type_is_percpu(unsigned t);
// "eth0", or "ifindex 7" when the interface is gone.
std::string ifname_of(int ifindex);
std::string libbpf_version();
// "512 bytes", "4 MiB", "1.5 GiB": sizes in messages that name a limit.
std::string byte_size(uint64_t bytes);
// A C string from libbpf that may be NULL (hostile BTF, missing names): "" then.
inline const char *str_or_empty(const char *s) { return s ? s : ""; }

} // namespace core

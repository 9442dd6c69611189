// Core layer: kernel-wide listing of programs, maps and links (by id, as bpftool does), the info of
// one map fd, the ids behind fds, and run-time stats.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace core {

struct ProgramInfo {
	uint32_t id = 0;
	std::string name, type, tag;
	std::vector<uint32_t> map_ids;
	uint64_t load_time_ns = 0;
	uint32_t uid = 0;
	uint64_t run_count = 0, run_time_ns = 0, recursion_misses = 0;
	uint32_t verified_insns = 0, xlated_bytes = 0, jited_bytes = 0, btf_id = 0;
	bool gpl_compatible = false;
};
struct MapInfo {
	uint32_t id = 0;
	std::string name, type;
	uint32_t type_num = 0;
	uint32_t key_size = 0, value_size = 0, max_entries = 0, flags = 0;
	uint32_t btf_id = 0, btf_key_type_id = 0, btf_value_type_id = 0;
};
struct LinkInfo {
	uint32_t id = 0;
	std::string type;
	uint32_t prog_id = 0;
	std::string target;
	bool has_ifindex = false, has_cgroup_id = false, has_attach_type = false;
	uint32_t ifindex = 0;
	uint64_t cgroup_id = 0;
	std::string attach_type;
};
std::vector<ProgramInfo> list_programs();
std::vector<MapInfo> list_maps();
std::vector<LinkInfo> list_links();
MapInfo map_info_by_fd(int fd);

// Kernel ids of the objects behind fds; 0 when the kernel does not answer.
uint32_t prog_id_of(int fd);
uint32_t map_id_of(int fd);
uint32_t link_id_of(int fd);

// BPF_ENABLE_STATS(BPF_STATS_RUN_TIME); the fd keeps stats on while open. Kernel 5.8.
int enable_stats();

} // namespace core

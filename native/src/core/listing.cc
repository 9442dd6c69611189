// Core layer: walks program, map and link ids with get_next_id and reads each one's info.
#include "listing.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>

#include "errors.h"
#include "names.h"

namespace core {
namespace {

// Info is bpf_prog_info, bpf_map_info or bpf_link_info; 0 when the kernel does not answer.
template <typename Info>
uint32_t id_of(int fd)
{
	Info info;
	memset(&info, 0, sizeof(info));
	uint32_t len = sizeof(info);
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

// Walks ids with get_next_id, skipping objects that vanish between next_id and get_fd_by_id.
template <typename NextFn, typename FdFn, typename Visit>
void for_each_id(const char *what, NextFn next, FdFn get_fd, Visit visit)
{
	uint32_t id = 0;
	for (;;) {
		if (next(id, &id)) {
			if (errno == ENOENT)
				return;
			fail(errno, std::string("list ") + what);
		}
		Fd fd(get_fd(id));
		if (!fd) {
			if (errno == ENOENT)
				continue;
			fail(errno, std::string("open ") + what + " id " + std::to_string(id));
		}
		visit(id, fd.get());
	}
}

std::string hex_tag(const uint8_t *tag, size_t n)
{
	std::string s;
	char b[3];
	for (size_t i = 0; i < n; i++) {
		snprintf(b, sizeof(b), "%02x", tag[i]);
		s += b;
	}
	return s;
}

// struct bpf_link_info as kernels up to 6.18 lay it out; the installed uapi header (6.1)
// lacks tcx/netkit/perf_event details. Larger than any kernel's struct so the kernel's
// tail-zero check passes.
struct LinkInfoRaw {
	uint32_t type, id, prog_id, pad;
	union {
		struct {
			uint64_t tp_name;
			uint32_t tp_name_len;
		} raw_tracepoint;
		struct {
			uint32_t attach_type, target_obj_id, target_btf_id;
		} tracing;
		struct {
			uint64_t cgroup_id;
			uint32_t attach_type;
		} cgroup;
		struct {
			uint32_t netns_ino, attach_type;
		} netns;
		struct {
			uint32_t ifindex;
		} xdp;
		struct {
			uint32_t map_id;
		} struct_ops;
		struct {
			uint32_t ifindex, attach_type;
		} tcx; // also netkit (13)
		struct {
			uint32_t type, pad;
			uint64_t name;    // uprobe file_name / kprobe func_name / tracepoint tp_name
			uint32_t name_len;
			uint32_t offset;  // uprobe, kprobe
			uint64_t addr;    // kprobe
		} perf_event;
		uint8_t raw[240];
	};
};

enum { PERF_UPROBE = 1, PERF_URETPROBE, PERF_KPROBE, PERF_KRETPROBE, PERF_TRACEPOINT, PERF_EVENT };

} // namespace

uint32_t prog_id_of(int fd) { return id_of<struct bpf_prog_info>(fd); }
uint32_t map_id_of(int fd) { return id_of<struct bpf_map_info>(fd); }
uint32_t link_id_of(int fd) { return id_of<struct bpf_link_info>(fd); }

std::vector<ProgramInfo> list_programs()
{
	std::vector<ProgramInfo> out;
	for_each_id("programs", bpf_prog_get_next_id, bpf_prog_get_fd_by_id, [&](uint32_t id, int fd) {
		struct bpf_prog_info info;
		memset(&info, 0, sizeof(info));
		uint32_t len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			fail(errno, "get info of program " + std::to_string(id));
		ProgramInfo pi;
		pi.id = info.id;
		pi.name = info.name;
		pi.type = prog_type_name(info.type);
		pi.tag = hex_tag(info.tag, sizeof(info.tag));
		pi.load_time_ns = info.load_time;
		pi.uid = info.created_by_uid;
		pi.run_count = info.run_cnt;
		pi.run_time_ns = info.run_time_ns;
		pi.recursion_misses = info.recursion_misses;
		pi.verified_insns = info.verified_insns;
		pi.xlated_bytes = info.xlated_prog_len;
		pi.jited_bytes = info.jited_prog_len;
		pi.btf_id = info.btf_id;
		pi.gpl_compatible = info.gpl_compatible;
		if (info.nr_map_ids) {
			// Second call for the map ids only, sized by the first.
			std::vector<uint32_t> ids(info.nr_map_ids);
			struct bpf_prog_info info2;
			memset(&info2, 0, sizeof(info2));
			info2.nr_map_ids = ids.size();
			info2.map_ids = (uint64_t)(uintptr_t)ids.data();
			len = sizeof(info2);
			if (bpf_obj_get_info_by_fd(fd, &info2, &len) == 0) {
				ids.resize(std::min<size_t>(ids.size(), info2.nr_map_ids));
				pi.map_ids = std::move(ids);
			}
		}
		out.push_back(std::move(pi));
	});
	return out;
}

MapInfo map_info_by_fd(int fd)
{
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	uint32_t len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		fail(errno, "get map info");
	MapInfo mi;
	mi.id = info.id;
	mi.name = info.name;
	mi.type_num = info.type;
	mi.type = map_type_name(info.type);
	mi.key_size = info.key_size;
	mi.value_size = info.value_size;
	mi.max_entries = info.max_entries;
	mi.flags = info.map_flags;
	mi.btf_id = info.btf_id;
	mi.btf_key_type_id = info.btf_key_type_id;
	mi.btf_value_type_id = info.btf_value_type_id;
	return mi;
}

std::vector<MapInfo> list_maps()
{
	std::vector<MapInfo> out;
	for_each_id("maps", bpf_map_get_next_id, bpf_map_get_fd_by_id,
		    [&](uint32_t, int fd) { out.push_back(map_info_by_fd(fd)); });
	return out;
}

std::vector<LinkInfo> list_links()
{
	std::vector<LinkInfo> out;
	for_each_id("links", bpf_link_get_next_id, bpf_link_get_fd_by_id, [&](uint32_t id, int fd) {
		LinkInfoRaw info;
		memset(&info, 0, sizeof(info));
		uint32_t len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			fail(errno, "get info of link " + std::to_string(id));
		// Names come back only into buffers we pass, and where depends on the type: ask again.
		char name[512] = {};
		if (info.type == BPF_LINK_TYPE_RAW_TRACEPOINT || info.type == BPF_LINK_TYPE_PERF_EVENT) {
			uint32_t type = info.type, perf_type = info.perf_event.type;
			memset(&info, 0, sizeof(info));
			if (type == BPF_LINK_TYPE_RAW_TRACEPOINT) {
				info.raw_tracepoint.tp_name = (uint64_t)(uintptr_t)name;
				info.raw_tracepoint.tp_name_len = sizeof(name);
			} else if (perf_type != PERF_EVENT && perf_type != 0) {
				info.perf_event.name = (uint64_t)(uintptr_t)name;
				info.perf_event.name_len = sizeof(name);
			}
			len = sizeof(info);
			if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
				// Kernels before 6.6 have no perf_event details: keep the basics.
				memset(&info, 0, sizeof(info));
				len = sizeof(info);
				name[0] = 0;
				if (bpf_obj_get_info_by_fd(fd, &info, &len))
					fail(errno, "get info of link " + std::to_string(id));
			}
			name[sizeof(name) - 1] = 0;
		}
		LinkInfo li;
		li.id = info.id;
		li.type = link_type_name(info.type);
		li.prog_id = info.prog_id;
		switch (info.type) {
		case BPF_LINK_TYPE_RAW_TRACEPOINT:
			li.target = name;
			break;
		case BPF_LINK_TYPE_TRACING:
			li.has_attach_type = true;
			li.attach_type = attach_type_name(info.tracing.attach_type);
			li.target = li.attach_type + " btf_id " + std::to_string(info.tracing.target_btf_id);
			if (info.tracing.target_obj_id)
				li.target += " obj " + std::to_string(info.tracing.target_obj_id);
			break;
		case BPF_LINK_TYPE_CGROUP:
			li.has_cgroup_id = true;
			li.cgroup_id = info.cgroup.cgroup_id;
			li.has_attach_type = true;
			li.attach_type = attach_type_name(info.cgroup.attach_type);
			li.target = "cgroup " + std::to_string(info.cgroup.cgroup_id);
			break;
		case BPF_LINK_TYPE_NETNS:
			li.has_attach_type = true;
			li.attach_type = attach_type_name(info.netns.attach_type);
			li.target = "netns " + std::to_string(info.netns.netns_ino);
			break;
		case BPF_LINK_TYPE_XDP:
			li.has_ifindex = true;
			li.ifindex = info.xdp.ifindex;
			li.target = ifname_of(info.xdp.ifindex);
			break;
		case 11: // tcx (6.6)
		case 13: // netkit (6.7)
			li.has_ifindex = true;
			li.ifindex = info.tcx.ifindex;
			li.has_attach_type = true;
			li.attach_type = attach_type_name(info.tcx.attach_type);
			li.target = ifname_of(info.tcx.ifindex) + " " + li.attach_type;
			break;
		case BPF_LINK_TYPE_PERF_EVENT:
			// tp_name/file/func only on 6.6+; "" before that.
			li.target = name;
			if (name[0] && (info.perf_event.type == PERF_UPROBE ||
					info.perf_event.type == PERF_URETPROBE ||
					info.perf_event.type == PERF_KPROBE ||
					info.perf_event.type == PERF_KRETPROBE) && info.perf_event.offset) {
				char off[32];
				snprintf(off, sizeof(off), "+0x%x", info.perf_event.offset);
				li.target += off;
			}
			break;
		case BPF_LINK_TYPE_STRUCT_OPS:
			li.target = "map " + std::to_string(info.struct_ops.map_id);
			break;
		default:
			break;
		}
		out.push_back(std::move(li));
	});
	return out;
}

int enable_stats()
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		fail(errno, "enable run-time stats");
	return fd;
}

} // namespace core

// Core layer: MapHandle's single-entry operations, its BTF types, and typed map fds by id.
#include "maps.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <fstream>

#include "libbpf_log.h"
#include "names.h"
#include "object_file.h"

namespace core {

MapHandle::MapHandle(int fd) : fd_(fd)
{
	info_ = map_info_by_fd(fd);
	user_value_size_ = info_.value_size;
	if (map_type_is_percpu(info_.type_num))
		user_value_size_ = ((info_.value_size + 7) / 8 * 8) * libbpf_num_possible_cpus();
}

std::unique_ptr<MapHandle> MapHandle::open_id(uint32_t id)
{
	int fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		fail(errno, "open map id " + std::to_string(id));
	Fd guard(fd);
	std::unique_ptr<MapHandle> h(new MapHandle(fd));
	guard.release();
	return h;
}

std::unique_ptr<MapHandle> MapHandle::open_pinned(const std::string &path)
{
	int fd = bpf_obj_get(path.c_str());
	if (fd < 0)
		fail(errno, "open pinned map " + path);
	Fd guard(fd);
	std::string t;
	{
		std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
		std::string line;
		while (std::getline(in, line))
			if (line.rfind("map_type:", 0) == 0)
				t = line;
	}
	if (t.empty())
		throw Error(EINVAL, "open pinned map " + path + ": not a map");
	std::unique_ptr<MapHandle> h(new MapHandle(fd));
	guard.release();
	return h;
}

void MapHandle::check_open() const
{
	if (closed())
		throw Error(EBADF, "handle is closed");
}

bool MapHandle::lookup(const uint8_t *key, std::vector<uint8_t> &value)
{
	check_open();
	value.assign(user_value_size_, 0);
	if (bpf_map_lookup_elem(fd_.get(), (void *)key, value.data())) {
		if (errno == ENOENT)
			return false;
		fail(errno, "lookup in map " + info_.name);
	}
	return true;
}

void MapHandle::update(const uint8_t *key, const uint8_t *value, uint64_t flags)
{
	check_open();
	if (bpf_map_update_elem(fd_.get(), key, value, flags))
		fail(errno, "update map " + info_.name);
}

bool MapHandle::remove(const uint8_t *key)
{
	check_open();
	if (bpf_map_delete_elem(fd_.get(), key)) {
		if (errno == ENOENT)
			return false;
		fail(errno, "delete from map " + info_.name);
	}
	return true;
}

bool MapHandle::next_key(const uint8_t *key, std::vector<uint8_t> &next)
{
	check_open();
	next.assign(info_.key_size, 0);
	if (bpf_map_get_next_key(fd_.get(), key, next.data())) {
		if (errno == ENOENT)
			return false;
		fail(errno, "next key in map " + info_.name);
	}
	return true;
}

void MapHandle::btf_types(bool &has_key, BtfNode &key, bool &has_value, BtfNode &value)
{
	check_open();
	has_key = has_value = false;
	if (!info_.btf_id)
		return;
	std::string log;
	Capture cap(log);
	BtfPtr btf(btf__load_from_kernel_by_id(info_.btf_id));
	if (!btf)
		fail(errno, "load BTF " + std::to_string(info_.btf_id) + " of map " + info_.name);
	if (info_.btf_key_type_id) {
		has_key = true;
		key = btf_resolve(btf.get(), info_.btf_key_type_id);
	}
	if (info_.btf_value_type_id) {
		has_value = true;
		value = btf_resolve(btf.get(), info_.btf_value_type_id);
	}
}

int open_map_fd_checked(uint32_t id, unsigned want_type, const char *what)
{
	Fd fd(bpf_map_get_fd_by_id(id));
	if (!fd)
		fail(errno, std::string(what) + ": open map id " + std::to_string(id));
	MapInfo mi = map_info_by_fd(fd.get());
	if (mi.type_num != want_type)
		throw Error(EINVAL, std::string(what) + ": map " + std::to_string(id) + " (" + mi.name +
					    ") is a " + mi.type + " map, not " + map_type_name(want_type));
	return fd.release();
}

void update_map_with_object(uint32_t map_id, const uint8_t *key, size_t key_len, bool is_program, uint32_t object_id,
			    uint64_t flags)
{
	std::unique_ptr<MapHandle> map = MapHandle::open_id(map_id);
	if (key_len != map->info().key_size)
		throw Error(EINVAL, "a key of map " + map->info().name + " has " + std::to_string(map->info().key_size) +
					    " bytes, not " + std::to_string(key_len));
	if (map->info().value_size != 4)
		throw Error(EINVAL, "map " + map->info().name + " does not hold object descriptors");
	const char *kind = is_program ? "program" : "map";
	Fd object(is_program ? bpf_prog_get_fd_by_id(object_id) : bpf_map_get_fd_by_id(object_id));
	if (!object)
		fail(errno, std::string("open ") + kind + " " + std::to_string(object_id));
	uint32_t fd = (uint32_t)object.get();
	map->update(key, reinterpret_cast<const uint8_t *>(&fd), flags);
}

} // namespace core

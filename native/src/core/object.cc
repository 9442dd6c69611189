// Core layer: a loaded object's programs and maps, pinning them, and closing it.
#include "object.h"

#include <bpf/libbpf.h>
#include <cerrno>

#include "listing.h"
#include "names.h"

namespace core {

void Object::check_open() const
{
	if (closed())
		throw Error(EBADF, "handle is closed");
}

struct bpf_program *Object::find_program(const std::string &name) const
{
	check_open();
	struct bpf_program *p = bpf_object__find_program_by_name(obj_, name.c_str());
	if (!p)
		throw Error(ENOENT, "no program named " + name + " in object " + name_);
	if (bpf_program__fd(p) < 0)
		throw Error(EBADF, "program " + name + " was not loaded");
	return p;
}

std::vector<LoadedProgram> Object::programs() const
{
	check_open();
	std::vector<LoadedProgram> out;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj_) {
		int fd = bpf_program__fd(p);
		if (fd < 0)
			continue;
		out.push_back({str_or_empty(bpf_program__name(p)), str_or_empty(bpf_program__section_name(p)),
			       prog_type_name(bpf_program__type(p)), prog_id_of(fd), fd});
	}
	return out;
}

std::vector<LoadedMap> Object::maps() const
{
	check_open();
	std::vector<LoadedMap> out;
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj_) {
		int fd = bpf_map__fd(m);
		if (fd < 0)
			continue;
		LoadedMap lm;
		lm.name = str_or_empty(bpf_map__name(m));
		lm.type = map_type_name(bpf_map__type(m));
		lm.id = map_id_of(fd);
		lm.fd = fd;
		lm.key_size = bpf_map__key_size(m);
		lm.value_size = bpf_map__value_size(m);
		lm.max_entries = bpf_map__max_entries(m);
		lm.internal = bpf_map__is_internal(m);
		out.push_back(std::move(lm));
	}
	return out;
}

void Object::pin_program(const std::string &program, const std::string &path)
{
	struct bpf_program *p = find_program(program);
	int err = bpf_program__pin(p, path.c_str());
	if (err)
		fail(-err, "pin program " + program + " at " + path);
}

void Object::pin_map(const std::string &map, const std::string &path)
{
	check_open();
	struct bpf_map *m = bpf_object__find_map_by_name(obj_, map.c_str());
	if (!m)
		throw Error(ENOENT, "no map named " + map + " in object " + name_);
	int err = bpf_map__pin(m, path.c_str());
	if (err)
		fail(-err, "pin map " + map + " at " + path);
}

void Object::close()
{
	// Unpinned links go with their fds; pinned ones live on through the pin.
	for (auto &a : attachments_)
		a->detach();
	attachments_.clear();
	if (obj_)
		bpf_object__close(obj_);
	obj_ = nullptr;
}

} // namespace core

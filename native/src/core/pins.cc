// Core layer: pinned objects; their kind comes from fdinfo, their id from the kernel's info.
#include "pins.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <fstream>
#include <unistd.h>

#include "errors.h"
#include "listing.h"

namespace core {

PinnedInfo pinned_object_info(const std::string &path)
{
	Fd fd(bpf_obj_get(path.c_str()));
	if (!fd)
		fail(errno, "open pinned object " + path);
	// fdinfo names the object's kind without guessing from info struct sizes.
	std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd.get()));
	std::string line, kind;
	while (std::getline(in, line) && kind.empty()) {
		if (line.rfind("prog_type:", 0) == 0)
			kind = "prog";
		else if (line.rfind("map_type:", 0) == 0)
			kind = "map";
		else if (line.rfind("link_type:", 0) == 0)
			kind = "link";
	}
	if (kind.empty())
		throw Error(EINVAL, "pinned object " + path + " is not a program, map or link");
	PinnedInfo pi;
	pi.kind = kind;
	if (kind == "prog")
		pi.id = prog_id_of(fd.get());
	else if (kind == "map")
		pi.id = map_id_of(fd.get());
	else
		pi.id = link_id_of(fd.get());
	return pi;
}

void unpin(const std::string &path)
{
	if (unlink(path.c_str()))
		fail(errno, "unpin " + path);
}

} // namespace core

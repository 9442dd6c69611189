// Core layer: the named structs of an object file's BTF, resolved into BtfNode trees: what the trace
// panel decodes ring/perf buffer events with, and what the map viewer offers when a map has no BTF of
// its own. Reads the file with libbpf only; the kernel is not involved.
#include "btf.h"

#include <bpf/btf.h>
#include <cerrno>
#include <memory>

#include "errors.h"

namespace core {

// At most this many structs are returned: an object's BTF only holds the types its code uses, so
// more than this is not a BPF object a person wrote.
constexpr size_t kMaxStructs = 4096;

std::vector<std::pair<std::string, BtfNode>> object_struct_types(const std::string &path)
{
	std::unique_ptr<struct btf, void (*)(struct btf *)> btf(btf__parse_elf(path.c_str(), nullptr), btf__free);
	if (!btf)
		fail(errno, "reading the BTF of " + path);
	std::vector<std::pair<std::string, BtfNode>> out;
	uint32_t n = btf__type_cnt(btf.get());
	for (uint32_t id = 1; id < n && out.size() < kMaxStructs; id++) {
		const struct btf_type *t = btf__type_by_id(btf.get(), id);
		if (!btf_is_struct(t) || !t->name_off)
			continue;
		const char *name = btf__name_by_offset(btf.get(), t->name_off);
		if (name && *name)
			out.emplace_back(name, btf_resolve(btf.get(), id));
	}
	return out;
}

} // namespace core

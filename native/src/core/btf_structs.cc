// Core layer: the named structs of an object file's BTF, resolved into BtfNode trees: what the trace
// panel decodes ring/perf buffer events with, and what the map viewer offers when a map has no BTF of
// its own. Reads only BPF ELF files (checked first), with libbpf; the kernel is not involved.
#include "btf.h"

#include <bpf/btf.h>

#include "elf_check.h"
#include "errors.h"

namespace core {

std::vector<std::pair<std::string, BtfNode>> object_struct_types(const std::string &path)
{
	check_bpf_elf(path);
	BtfPtr btf = load_object_btf(path);
	if (!btf)
		fail(ENOENT, "reading the BTF of " + path);
	// One budget for every struct of the file: a file of many big structs costs a bounded answer.
	BtfResolver resolver(btf.get());
	std::vector<std::pair<std::string, BtfNode>> out;
	uint32_t n = btf__type_cnt(btf.get());
	for (uint32_t id = 1; id < n && out.size() < kMaxStructs; id++) {
		const struct btf_type *t = btf__type_by_id(btf.get(), id);
		if (!btf_is_struct(t) || !t->name_off)
			continue;
		const char *name = btf__name_by_offset(btf.get(), t->name_off);
		if (name && *name)
			out.emplace_back(name, resolver.resolve(id));
	}
	return out;
}

} // namespace core

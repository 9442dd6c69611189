// Core layer: describe_object(), the spec of an object file read with libbpf; the kernel is not asked.
#include "spec.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cstring>
#include <memory>

#include "libbpf_log.h"
#include "limits.h"
#include "names.h"
#include "object_file.h"

namespace core {
namespace {

std::string expected_attach_name(const struct bpf_program *p)
{
	unsigned at = bpf_program__expected_attach_type(p);
	// 0 is both "none" and BPF_CGROUP_INET_INGRESS; only cgroup_skb can mean the latter.
	if (at == 0 && bpf_program__type(p) != BPF_PROG_TYPE_CGROUP_SKB)
		return "";
	return attach_type_name(at);
}

} // namespace

ObjectSpec describe_object(const std::string &path)
{
	std::string log;
	Capture cap(log);
	ObjPtr obj = open_object(path, log);
	ObjectSpec spec;
	spec.path = path;
	spec.name = str_or_empty(bpf_object__name(obj.get()));

	struct bpf_program *p;
	bpf_object__for_each_program(p, obj.get()) {
		ProgramSpec ps;
		ps.name = str_or_empty(bpf_program__name(p));
		ps.section = str_or_empty(bpf_program__section_name(p));
		ps.type = prog_type_name(bpf_program__type(p));
		ps.expected_attach_type = expected_attach_name(p);
		ps.insn_count = bpf_program__insn_cnt(p);
		ps.autoload = bpf_program__autoload(p);
		spec.programs.push_back(std::move(ps));
	}
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj.get()) {
		MapSpec ms;
		ms.name = str_or_empty(bpf_map__name(m));
		ms.type = map_type_name(bpf_map__type(m));
		ms.key_size = bpf_map__key_size(m);
		ms.value_size = bpf_map__value_size(m);
		ms.max_entries = bpf_map__max_entries(m);
		ms.internal = bpf_map__is_internal(m);
		spec.maps.push_back(std::move(ms));
	}
	const struct btf *btf = bpf_object__btf(obj.get());
	// One budget for all variables: an object's describe is bounded however its types nest.
	std::unique_ptr<BtfResolver> resolver(btf ? new BtfResolver(btf) : nullptr);
	size_t initial_bytes = 0;
	for (const VarRef &v : data_vars(obj.get())) {
		VariableSpec vs;
		vs.name = v.name;
		vs.section = v.section;
		vs.offset = v.offset;
		vs.size = v.size;
		if (resolver)
			vs.type = resolver->resolve(v.type_id);
		// Initial bytes within bounds only: a hostile .bss can claim gigabytes of zeros.
		if (v.size <= kMaxVariableInitialBytes && initial_bytes + v.size <= kMaxInitialBytesTotal) {
			initial_bytes += v.size;
			vs.initial.assign(v.size, 0);
			size_t sz = 0;
			const void *init = v.map ? bpf_map__initial_value(v.map, &sz) : nullptr;
			if (init && (size_t)v.offset + v.size <= sz)
				memcpy(vs.initial.data(), (const uint8_t *)init + v.offset, v.size);
		}
		spec.variables.push_back(std::move(vs));
	}
	if (btf) {
		uint32_t n = btf__type_cnt(btf);
		for (uint32_t id = 1; id < n; id++) {
			const struct btf_type *t = btf__type_by_id(btf, id);
			if (!btf_is_struct(t) || !t->name_off)
				continue;
			const char *name = btf__name_by_offset(btf, t->name_off);
			if (name && *name)
				spec.struct_names.push_back(name);
		}
	}
	return spec;
}

} // namespace core

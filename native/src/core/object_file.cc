// Core layer: libbpf's open of a checked object file, and data-section variables found through the
// object's BTF DATASECs.
#include "object_file.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>

#include "btf.h"
#include "elf_check.h"
#include "errors.h"
#include "libbpf_log.h"
#include "names.h"

namespace core {

void ObjCloser::operator()(struct bpf_object *o) const { bpf_object__close(o); }

ObjPtr open_object(const std::string &path, std::string &log, const std::string &core_btf)
{
	check_bpf_elf(path);
	load_object_btf(path);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = core_btf.empty() ? nullptr : core_btf.c_str());
	struct bpf_object *obj = bpf_object__open_file(path.c_str(), &opts);
	if (!obj) {
		int err = errno;
		std::string why = last_message(log);
		std::string text = errno_text(err);
		if (err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END)
			err = EINVAL;
		throw Error(err, "not a BPF object file: " + path + ": " + text +
					 (why.empty() ? "" : " (libbpf: " + why + ")"));
	}
	return ObjPtr(obj);
}

namespace {

bool is_data_section(const std::string &s)
{
	return s == ".rodata" || s == ".data" || s == ".bss" || s.rfind(".rodata.", 0) == 0 ||
	       s.rfind(".data.", 0) == 0;
}

// The internal map libbpf made for a data section. libbpf records the DATASEC as the map's
// value type; older libbpf only sets that at load, so fall back to its naming scheme
// ("<obj prefix>.rodata", or the section name itself for custom sections).
struct bpf_map *internal_map_for(struct bpf_object *obj, const std::string &sec, uint32_t sec_id)
{
	struct bpf_map *m, *by_suffix = nullptr;
	bpf_object__for_each_map(m, obj) {
		if (!bpf_map__is_internal(m))
			continue;
		if (bpf_map__btf_value_type_id(m) == sec_id)
			return m;
		std::string n = str_or_empty(bpf_map__name(m));
		if (n == sec)
			return m;
		if (n.size() > sec.size() && n.compare(n.size() - sec.size(), sec.size(), sec) == 0)
			by_suffix = m;
	}
	return by_suffix;
}

} // namespace

std::vector<VarRef> data_vars(struct bpf_object *obj)
{
	std::vector<VarRef> out;
	const struct btf *btf = bpf_object__btf(obj);
	if (!btf)
		return out;
	uint32_t n = btf__type_cnt(btf);
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_datasec(t))
			continue;
		std::string sec = str_or_empty(btf__name_by_offset(btf, t->name_off));
		if (!is_data_section(sec))
			continue;
		struct bpf_map *map = internal_map_for(obj, sec, id);
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, vs++) {
			const struct btf_type *v = btf__type_by_id(btf, vs->type);
			if (!v || !btf_is_var(v))
				continue;
			out.push_back({str_or_empty(btf__name_by_offset(btf, v->name_off)), sec, vs->offset, vs->size,
				       v->type, map});
		}
	}
	return out;
}

} // namespace core

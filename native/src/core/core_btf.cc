// Core layer: a minimal kernel BTF for an object's CO-RE relocations (see core_btf.h).
#include "core_btf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace core {
namespace {

// The layout of .BTF.ext (include/uapi/linux/btf.h has no copy of it; libbpf keeps it in
// libbpf_internal.h): the CO-RE part follows func_info and line_info.
struct BtfExtHeader {
	uint16_t magic;
	uint8_t version, flags;
	uint32_t hdr_len;
	uint32_t func_info_off, func_info_len, line_info_off, line_info_len;
	uint32_t core_relo_off, core_relo_len;
};
struct CoreRelo {
	uint32_t insn_off, type_id, access_str_off, kind;
};

// libbpf's bpf_core_essential_name_len(): a name without its "___flavor" suffix.
size_t essential_len(const char *name)
{
	size_t n = strlen(name);
	for (int i = (int)n - 5; i >= 0; i--) {
		const char *s = name + i;
		if (s[0] != '_' && s[1] == '_' && s[2] == '_' && s[3] == '_' && s[4] != '_')
			return i + 1;
	}
	return n;
}

// The kernel BTF, parsed once, with its named types by essential name.
struct Kernel {
	struct btf *btf = nullptr;
	std::unordered_map<std::string, std::vector<uint32_t>> by_name;
};

Kernel *kernel()
{
	static std::once_flag once;
	static Kernel *k = nullptr;
	std::call_once(once, [] {
		struct btf *btf = btf__load_vmlinux_btf();
		if (!btf || libbpf_get_error(btf))
			return;
		Kernel *made = new Kernel();
		made->btf = btf;
		uint32_t n = btf__type_cnt(btf);
		for (uint32_t id = 1; id < n; id++) {
			const char *name = btf__name_by_offset(btf, btf__type_by_id(btf, id)->name_off);
			if (name && *name)
				made->by_name[std::string(name, essential_len(name))].push_back(id);
		}
		k = made;
	});
	return k;
}

// Calls fn on each type id a type refers to (the same set libbpf's btf_type_visit_type_ids walks).
template <typename Fn> void for_each_ref(struct btf_type *t, Fn fn)
{
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
	case BTF_KIND_TYPE_TAG:
		fn(t->type);
		break;
	case BTF_KIND_ARRAY: {
		struct btf_array *a = btf_array(t);
		fn(a->type);
		fn(a->index_type);
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		struct btf_member *m = btf_members(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, m++)
			fn(m->type);
		break;
	}
	case BTF_KIND_FUNC_PROTO: {
		fn(t->type);
		struct btf_param *p = btf_params(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, p++)
			fn(p->type);
		break;
	}
	case BTF_KIND_DATASEC: {
		struct btf_var_secinfo *v = btf_var_secinfos(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, v++)
			fn(v->type);
		break;
	}
	default: // INT, ENUM, ENUM64, FWD, FLOAT: no references
		break;
	}
}

// The root type names of the object's CO-RE relocations; false when the kernel BTF must be used as is.
bool relocation_roots(const std::string &object_path, std::vector<std::string> &roots)
{
	struct btf_ext *ext = nullptr;
	struct btf *local = btf__parse(object_path.c_str(), &ext);
	if (!local || libbpf_get_error(local))
		return false;
	bool ok = false;
	uint32_t size = 0;
	const uint8_t *raw = ext ? (const uint8_t *)btf_ext__raw_data(ext, &size) : nullptr;
	BtfExtHeader h = {};
	if (raw && size >= 8)
		memcpy(&h, raw, std::min<size_t>(sizeof(h), size));
	// An older header has no CO-RE part; a short one is libbpf's to refuse.
	if (raw && h.hdr_len >= sizeof(h) && (uint64_t)h.hdr_len + h.core_relo_off + h.core_relo_len <= size &&
	    h.core_relo_len >= 4) {
		const uint8_t *p = raw + h.hdr_len + h.core_relo_off, *end = p + h.core_relo_len;
		uint32_t rec_size;
		memcpy(&rec_size, p, 4);
		p += 4;
		ok = rec_size >= sizeof(CoreRelo);
		while (ok && p + 8 <= end) {
			uint32_t count;
			memcpy(&count, p + 4, 4);
			p += 8;
			if ((uint64_t)count * rec_size > (uint64_t)(end - p)) {
				ok = false;
				break;
			}
			for (uint32_t i = 0; i < count && ok; i++, p += rec_size) {
				CoreRelo r;
				memcpy(&r, p, sizeof(r));
				if (r.kind == BPF_CORE_TYPE_ID_LOCAL)
					continue;
				const struct btf_type *t = btf__type_by_id(local, r.type_id);
				const char *name = t ? btf__name_by_offset(local, t->name_off) : nullptr;
				// A kernel type id differs in a smaller BTF; an anonymous root is libbpf's to refuse.
				if (r.kind == BPF_CORE_TYPE_ID_TARGET || !name || !*name)
					ok = false;
				else
					roots.emplace_back(name, essential_len(name));
			}
		}
		ok = ok && !roots.empty();
	}
	btf_ext__free(ext);
	btf__free(local);
	return ok;
}

} // namespace

CoreBtf::~CoreBtf()
{
	if (fd_ >= 0)
		close(fd_);
}

void CoreBtf::build(const std::string &object_path, CoreBtf &out)
{
	std::vector<std::string> roots;
	if (!relocation_roots(object_path, roots))
		return;
	Kernel *k = kernel();
	if (!k)
		return;
	uint32_t n = btf__type_cnt(k->btf);
	std::vector<char> keep(n, 0);
	std::vector<uint32_t> todo;
	for (const std::string &root : roots) {
		auto it = k->by_name.find(root);
		// No candidate in vmlinux: libbpf would look in the modules' BTF, which a custom BTF turns off.
		if (it == k->by_name.end())
			return;
		todo.insert(todo.end(), it->second.begin(), it->second.end());
	}
	while (!todo.empty()) {
		uint32_t id = todo.back();
		todo.pop_back();
		if (id == 0 || id >= n || keep[id])
			continue;
		keep[id] = 1;
		for_each_ref(const_cast<struct btf_type *>(btf__type_by_id(k->btf, id)), [&](uint32_t ref) {
			if (ref && ref < n && !keep[ref])
				todo.push_back(ref);
		});
	}
	struct btf *small = btf__new_empty();
	if (!small || libbpf_get_error(small))
		return;
	std::vector<uint32_t> new_id(n, 0);
	bool ok = true;
	for (uint32_t id = 1; id < n && ok; id++) {
		if (!keep[id])
			continue;
		int made = btf__add_type(small, k->btf, btf__type_by_id(k->btf, id));
		ok = made > 0;
		new_id[id] = made > 0 ? (uint32_t)made : 0;
	}
	// btf__add_type copies a type's references as they were: renumber them into the small BTF.
	uint32_t small_n = ok ? btf__type_cnt(small) : 0;
	for (uint32_t id = 1; id < small_n; id++)
		for_each_ref(const_cast<struct btf_type *>(btf__type_by_id(small, id)), [&](uint32_t &ref) {
			if (ref)
				ref = new_id[ref];
		});
	uint32_t size = 0;
	const void *raw = ok ? btf__raw_data(small, &size) : nullptr;
	int fd = raw ? memfd_create("ebpf-studio-core-btf", MFD_CLOEXEC) : -1;
	if (fd >= 0 && write(fd, raw, size) == (ssize_t)size) {
		out.fd_ = fd;
		out.path_ = "/proc/self/fd/" + std::to_string(fd);
	} else if (fd >= 0) {
		close(fd);
	}
	btf__free(small);
}

} // namespace core

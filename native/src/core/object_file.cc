// Core layer: object files before libbpf sees them (ELF checks), libbpf's open, and data-section
// variables found through the object's BTF DATASECs.
#include "object_file.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "libbpf_log.h"

namespace core {

void ObjCloser::operator()(struct bpf_object *o) const { bpf_object__close(o); }
void BtfFree::operator()(struct btf *b) const { btf__free(b); }

// libbpf's own message for a non-BPF file is "BPF object format invalid"; say what is wrong.
void check_bpf_elf(const std::string &path)
{
	Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		fail(errno, "open object file " + path);
	unsigned char h[64] = {};
	ssize_t n = pread(fd.get(), h, sizeof(h), 0);
	if (n < 0)
		fail(errno, "read object file " + path);
	if (n < 20 || memcmp(h, "\x7f" "ELF", 4) != 0)
		throw Error(ENOEXEC, "not a BPF object file: " + path + ": not an ELF file");
	unsigned machine = h[5] == 2 ? (h[18] << 8 | h[19]) : (h[19] << 8 | h[18]);
	if (machine != 247 /* EM_BPF */)
		throw Error(ENOEXEC, "not a BPF object file: " + path + ": ELF machine is " +
					     std::to_string(machine) + ", expected 247 (EM_BPF); " +
					     "compile with clang -target bpf");
	unsigned type = h[5] == 2 ? (h[16] << 8 | h[17]) : (h[17] << 8 | h[16]);
	if (type != 1 /* ET_REL */)
		throw Error(ENOEXEC, "not a BPF object file: " + path +
					     ": not a relocatable object (ELF type " + std::to_string(type) + ")");
	// A cut-off copy (an interrupted download or build) otherwise fails deep in libelf with
	// "invalid `Elf' handle". BPF objects are ELF64; the section headers come last.
	if (h[4] == 2 /* ELFCLASS64 */) {
		auto field = [&](int at, int size) {
			uint64_t v = 0;
			for (int i = 0; i < size; i++)
				v |= (uint64_t)h[at + (h[5] == 2 ? size - 1 - i : i)] << (8 * i);
			return v;
		};
		struct stat st = {};
		if (fstat(fd.get(), &st) != 0)
			fail(errno, "stat object file " + path);
		uint64_t end = field(0x28, 8) + field(0x3a, 2) * field(0x3c, 2);
		if (n < (ssize_t)sizeof(h) || end > (uint64_t)st.st_size)
			throw Error(ENOEXEC, "not a BPF object file: " + path + ": truncated (" +
						     std::to_string(st.st_size) + " bytes; its section headers end at byte " +
						     std::to_string(end) + ")");
	}
}

ObjPtr open_object(const std::string &path, std::string &log)
{
	check_bpf_elf(path);
	struct bpf_object *obj = bpf_object__open_file(path.c_str(), nullptr);
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
		std::string n = bpf_map__name(m);
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
		std::string sec = btf__name_by_offset(btf, t->name_off);
		if (!is_data_section(sec))
			continue;
		struct bpf_map *map = internal_map_for(obj, sec, id);
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, vs++) {
			const struct btf_type *v = btf__type_by_id(btf, vs->type);
			if (!v || !btf_is_var(v))
				continue;
			out.push_back({btf__name_by_offset(btf, v->name_off), sec, vs->offset, vs->size,
				       v->type, map});
		}
	}
	return out;
}

} // namespace core

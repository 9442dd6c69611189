// Core layer: an object file's BTF parsed by libbpf and checked before anything trusts it. libbpf 1.1
// checks BTF's layout but not its names or references: a name offset past the string section makes
// btf__name_by_offset() return NULL, and a type id past the last type makes btf__type_by_id() return
// NULL; both are refused here with the type at fault named.
#include "btf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "errors.h"
#include "libbpf_log.h"

namespace core {

void BtfFree::operator()(struct btf *b) const { btf__free(b); }

namespace {

const char *kind_name(uint16_t kind)
{
	static const char *const names[] = {"void", "int", "ptr", "array", "struct", "union", "enum",
					    "fwd", "typedef", "volatile", "const", "restrict", "func",
					    "func_proto", "var", "datasec", "float", "decl_tag", "type_tag",
					    "enum64"};
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown kind";
}

class Checker {
public:
	Checker(const struct btf *btf, const std::string &where) : btf_(btf), where_(where), count_(btf__type_cnt(btf)) {}

	void check_all()
	{
		for (uint32_t id = 1; id < count_; id++)
			check(id, btf__type_by_id(btf_, id));
	}

private:
	[[noreturn]] void bad(const std::string &what) const
	{
		throw BadInput("path", "invalid BTF in " + where_ + ": type " + std::to_string(id_) + " (" + label_ +
					       ") " + what, ENOEXEC);
	}

	void name(uint32_t off, const std::string &whose)
	{
		if (!btf__name_by_offset(btf_, off))
			bad(whose + "has name offset " + std::to_string(off) + ", outside the BTF string section");
	}

	void ref(uint32_t type, const std::string &whose)
	{
		if (type >= count_)
			bad(whose + "refers to type " + std::to_string(type) + ", past the last type (" +
			    std::to_string(count_ - 1) + ")");
	}

	void check(uint32_t id, const struct btf_type *t)
	{
		id_ = id;
		uint16_t kind = btf_kind(t);
		label_ = kind_name(kind);
		name(t->name_off, "");
		if (t->name_off)
			label_ += std::string(" ") + btf__name_by_offset(btf_, t->name_off);
		switch (kind) {
		case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_VAR: case BTF_KIND_TYPE_TAG:
		case BTF_KIND_DECL_TAG:
			ref(t->type, "");
			break;
		case BTF_KIND_ARRAY:
			ref(btf_array(t)->type, "element ");
			ref(btf_array(t)->index_type, "index ");
			break;
		case BTF_KIND_STRUCT: case BTF_KIND_UNION: {
			const struct btf_member *m = btf_members(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
				std::string whose = "member " + std::to_string(i) + " ";
				name(m->name_off, whose);
				ref(m->type, whose);
			}
			break;
		}
		case BTF_KIND_ENUM: {
			const struct btf_enum *e = btf_enum(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
				name(e->name_off, "value " + std::to_string(i) + " ");
			break;
		}
		case BTF_KIND_ENUM64: {
			const struct btf_enum64 *e = btf_enum64(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
				name(e->name_off, "value " + std::to_string(i) + " ");
			break;
		}
		case BTF_KIND_FUNC_PROTO: {
			ref(t->type, "return ");
			const struct btf_param *p = btf_params(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, p++) {
				std::string whose = "parameter " + std::to_string(i) + " ";
				name(p->name_off, whose);
				ref(p->type, whose);
			}
			break;
		}
		case BTF_KIND_DATASEC: {
			const struct btf_var_secinfo *v = btf_var_secinfos(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, v++)
				ref(v->type, "variable " + std::to_string(i) + " ");
			break;
		}
		default:
			break;
		}
	}

	const struct btf *btf_;
	std::string where_;
	uint32_t count_;
	uint32_t id_ = 0;
	std::string label_;
};

} // namespace

void check_btf(const struct btf *btf, const std::string &where)
{
	Checker(btf, where).check_all();
}

BtfPtr load_object_btf(const std::string &path)
{
	std::string log;
	Capture cap(log);
	errno = 0;
	BtfPtr btf(btf__parse_elf(path.c_str(), nullptr));
	if (!btf) {
		int err = errno;
		if (err == ENOENT)
			return nullptr;
		std::string why = last_message(log);
		throw BadInput("path", "invalid BTF in " + path + ": " + errno_text(err) +
					       (why.empty() ? "" : " (libbpf: " + why + ")"), ENOEXEC);
	}
	check_btf(btf.get(), path);
	return btf;
}

} // namespace core

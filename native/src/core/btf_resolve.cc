// Core layer: BTF type id -> self-contained tree (core::BtfNode). Pointers are cut to a type name so that
// self-referential structs (lists, trees) terminate; anything nested deeper than 32 levels
// becomes {kind: unknown} rather than blowing the stack on hostile BTF.
#include "btf.h"

#include <bpf/btf.h>

namespace core {
namespace {

constexpr int kMaxDepth = 32;

const struct btf_type *skip_mods(const struct btf *btf, uint32_t &id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	for (int i = 0; t && i < kMaxDepth; i++) {
		uint16_t k = btf_kind(t);
		if (k != BTF_KIND_CONST && k != BTF_KIND_VOLATILE && k != BTF_KIND_RESTRICT &&
		    k != BTF_KIND_TYPE_TAG)
			return t;
		id = t->type;
		t = id ? btf__type_by_id(btf, id) : nullptr;
	}
	return t;
}

std::string name_of(const struct btf *btf, const struct btf_type *t)
{
	const char *n = btf__name_by_offset(btf, t->name_off);
	return n ? n : "";
}

// A C-ish spelling of a type, used for pointer targets.
std::string type_name(const struct btf *btf, uint32_t id, int depth)
{
	if (depth > kMaxDepth)
		return "?";
	const struct btf_type *t = id ? skip_mods(btf, id) : nullptr;
	if (!id || !t)
		return "void";
	std::string n = name_of(btf, t);
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT: return "struct " + (n.empty() ? std::string("(anon)") : n);
	case BTF_KIND_UNION: return "union " + (n.empty() ? std::string("(anon)") : n);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64: return "enum " + (n.empty() ? std::string("(anon)") : n);
	case BTF_KIND_FWD: return (btf_kflag(t) ? "union " : "struct ") + n;
	case BTF_KIND_PTR: return type_name(btf, t->type, depth + 1) + " *";
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		return type_name(btf, a->type, depth + 1) + "[" + std::to_string(a->nelems) + "]";
	}
	case BTF_KIND_FUNC_PROTO: return "func";
	default: return n.empty() ? "?" : n;
	}
}

uint32_t size_of(const struct btf *btf, uint32_t id)
{
	int64_t s = btf__resolve_size(btf, id);
	return s < 0 ? 0 : (uint32_t)s;
}

BtfNode resolve(const struct btf *btf, uint32_t id, int depth)
{
	BtfNode n;
	if (depth > kMaxDepth) {
		n.kind = "unknown";
		n.name = "(too deep)";
		return n;
	}
	const struct btf_type *t = id ? skip_mods(btf, id) : nullptr;
	if (!id || !t) {
		n.kind = "void";
		return n;
	}
	n.name = name_of(btf, t);
	switch (btf_kind(t)) {
	case BTF_KIND_INT: {
		uint8_t enc = btf_int_encoding(t);
		n.kind = "int";
		n.size = t->size;
		n.is_signed = enc & BTF_INT_SIGNED;
		n.is_char = enc & BTF_INT_CHAR;
		n.is_bool = enc & BTF_INT_BOOL;
		n.bits = btf_int_bits(t);
		break;
	}
	case BTF_KIND_FLOAT:
		n.kind = "float";
		n.size = t->size;
		break;
	case BTF_KIND_PTR:
		n.kind = "ptr";
		n.size = 8;
		n.target_name = type_name(btf, t->type, depth + 1);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		n.kind = "array";
		n.length = a->nelems;
		n.child.push_back(resolve(btf, a->type, depth + 1));
		n.size = size_of(btf, id);
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		n.kind = btf_is_struct(t) ? "struct" : "union";
		n.size = t->size;
		const struct btf_member *m = btf_members(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
			BtfMemberNode mn;
			const char *mname = btf__name_by_offset(btf, m->name_off);
			mn.name = mname ? mname : "";
			mn.bit_offset = btf_member_bit_offset(t, i);
			mn.bit_size = btf_member_bitfield_size(t, i);
			mn.type = resolve(btf, m->type, depth + 1);
			n.members.push_back(std::move(mn));
		}
		break;
	}
	case BTF_KIND_ENUM: {
		n.kind = "enum";
		n.size = t->size;
		n.is_signed = btf_kflag(t);
		const struct btf_enum *e = btf_enum(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, e++) {
			const char *en = btf__name_by_offset(btf, e->name_off);
			int64_t v = n.is_signed ? (int64_t)e->val : (int64_t)(uint32_t)e->val;
			n.values.push_back({en ? en : "", v});
		}
		break;
	}
	case BTF_KIND_ENUM64: {
		n.kind = "enum";
		n.size = t->size;
		n.is_signed = btf_kflag(t);
		const struct btf_enum64 *e = btf_enum64(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, e++) {
			const char *en = btf__name_by_offset(btf, e->name_off);
			n.values.push_back({en ? en : "", (int64_t)btf_enum64_value(e)});
		}
		break;
	}
	case BTF_KIND_TYPEDEF:
		n.kind = "typedef";
		n.size = size_of(btf, id);
		n.child.push_back(resolve(btf, t->type, depth + 1));
		break;
	case BTF_KIND_FWD:
		n.kind = "fwd";
		break;
	case BTF_KIND_FUNC:
	case BTF_KIND_FUNC_PROTO:
		n.kind = "func";
		break;
	default:
		n.kind = "unknown";
		n.size = size_of(btf, id);
		break;
	}
	return n;
}

} // namespace

BtfNode btf_resolve(const struct btf *btf, uint32_t id)
{
	return resolve(btf, id, 0);
}

} // namespace core

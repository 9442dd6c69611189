// Core layer: BtfResolver, BTF type id -> self-contained tree under a node budget, with cycle detection
// and per-id memos (the rules are at the top of btf.h).
#include "btf.h"

#include <algorithm>
#include <bpf/btf.h>

namespace core {

BtfNode btf_resolve(const struct btf *btf, uint32_t id)
{
	return BtfResolver(btf).resolve(id);
}

BtfNode BtfResolver::resolve(uint32_t id)
{
	tree_nodes_ = 0;
	path_.clear();
	expanded_.clear();
	return node(id, 0);
}

std::string BtfResolver::name_of(const struct btf_type *t) const
{
	const char *n = btf__name_by_offset(btf_, t->name_off);
	return n ? n : "";
}

std::string BtfResolver::name_of_offset(uint32_t off) const
{
	const char *n = btf__name_by_offset(btf_, off);
	return n ? n : "";
}

// The type behind const/volatile/restrict/type tags; id becomes its id. NULL for void or a bad id.
const struct btf_type *BtfResolver::skip_mods(uint32_t &id)
{
	auto it = mods_.find(id);
	if (it != mods_.end()) {
		id = it->second;
		return id ? btf__type_by_id(btf_, id) : nullptr;
	}
	uint32_t from = id;
	const struct btf_type *t = id ? btf__type_by_id(btf_, id) : nullptr;
	for (int i = 0; t && i < kBtfMaxDepth; i++) {
		uint16_t k = btf_kind(t);
		if (k != BTF_KIND_CONST && k != BTF_KIND_VOLATILE && k != BTF_KIND_RESTRICT &&
		    k != BTF_KIND_TYPE_TAG)
			break;
		id = t->type;
		t = id ? btf__type_by_id(btf_, id) : nullptr;
	}
	if (!t)
		id = 0;
	mods_[from] = id;
	return t;
}

// A C-ish spelling of a type, used for pointer targets and in refs.
const std::string &BtfResolver::type_name(uint32_t id, int depth)
{
	auto it = names_.find(id);
	if (it != names_.end())
		return it->second;
	std::string s;
	uint32_t real = id;
	const struct btf_type *t = id ? skip_mods(real) : nullptr;
	if (depth > kBtfMaxDepth) {
		s = "?";
	} else if (!t) {
		s = "void";
	} else {
		std::string n = name_of(t);
		std::string anon = n.empty() ? std::string("(anon)") : n;
		switch (btf_kind(t)) {
		case BTF_KIND_STRUCT: s = "struct " + anon; break;
		case BTF_KIND_UNION: s = "union " + anon; break;
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64: s = "enum " + anon; break;
		case BTF_KIND_FWD: s = (btf_kflag(t) ? "union " : "struct ") + n; break;
		case BTF_KIND_PTR: s = type_name(t->type, depth + 1) + " *"; break;
		case BTF_KIND_ARRAY: {
			const struct btf_array *a = btf_array(t);
			s = type_name(a->type, depth + 1) + "[" + std::to_string(a->nelems) + "]";
			break;
		}
		case BTF_KIND_FUNC_PROTO: s = "func"; break;
		default: s = n.empty() ? "?" : n; break;
		}
	}
	// A deep chain cut at "?" is cached as it is: the spelling is a label, not a decoding rule.
	return names_.emplace(id, std::move(s)).first->second;
}

uint32_t BtfResolver::size_of(uint32_t id)
{
	auto it = sizes_.find(id);
	if (it != sizes_.end())
		return it->second;
	int64_t s = btf__resolve_size(btf_, id);
	uint32_t v = s < 0 || s > UINT32_MAX ? 0 : (uint32_t)s;
	sizes_[id] = v;
	return v;
}

BtfNode BtfResolver::node(uint32_t id, int depth)
{
	BtfNode n;
	tree_nodes_++;
	call_nodes_++;
	if (depth > kBtfMaxDepth) {
		n.kind = "unknown";
		n.name = "(too deep)";
		return n;
	}
	uint32_t orig = id;
	const struct btf_type *t = id ? skip_mods(id) : nullptr;
	if (!id || !t) {
		n.kind = "void";
		return n;
	}
	n.name = name_of(t);
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
		n.target_name = type_name(t->type, depth + 1);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		n.kind = "array";
		n.length = a->nelems;
		n.child.push_back(node(a->type, depth + 1));
		n.size = size_of(orig);
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		composite(n, id, t, depth);
		break;
	case BTF_KIND_ENUM: {
		n.kind = "enum";
		n.size = t->size;
		n.is_signed = btf_kflag(t);
		const struct btf_enum *e = btf_enum(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, e++) {
			int64_t v = n.is_signed ? (int64_t)e->val : (int64_t)(uint32_t)e->val;
			n.values.push_back({name_of_offset(e->name_off), v});
		}
		tree_nodes_ += btf_vlen(t);
		call_nodes_ += btf_vlen(t);
		break;
	}
	case BTF_KIND_ENUM64: {
		n.kind = "enum";
		n.size = t->size;
		n.is_signed = btf_kflag(t);
		const struct btf_enum64 *e = btf_enum64(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
			n.values.push_back({name_of_offset(e->name_off), (int64_t)btf_enum64_value(e)});
		tree_nodes_ += btf_vlen(t);
		call_nodes_ += btf_vlen(t);
		break;
	}
	case BTF_KIND_TYPEDEF:
		n.kind = "typedef";
		n.size = size_of(orig);
		n.child.push_back(node(t->type, depth + 1));
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
		n.size = size_of(orig);
		break;
	}
	return n;
}

// A struct or union: in full, or a ref / an unexpanded stand-in (see btf.h).
void BtfResolver::composite(BtfNode &n, uint32_t id, const struct btf_type *t, int depth)
{
	n.id = id;
	n.size = t->size;
	bool cycle = std::find(path_.begin(), path_.end(), id) != path_.end();
	if (cycle || (over_budget() && expanded_.count(id))) {
		n.kind = "ref";
		n.name = type_name(id, 0);
		return;
	}
	if (over_budget()) {
		n.kind = "unknown";
		n.id = 0;
		n.name = type_name(id, 0) + " (not expanded: over the " +
			 std::to_string(tree_nodes_ >= tree_budget_ ? tree_budget_ : call_budget_) + "-node budget)";
		return;
	}
	n.kind = btf_is_struct(t) ? "struct" : "union";
	expanded_.insert(id);
	path_.push_back(id);
	const struct btf_member *m = btf_members(t);
	n.members.reserve(btf_vlen(t));
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		BtfMemberNode mn;
		mn.name = name_of_offset(m->name_off);
		mn.bit_offset = btf_member_bit_offset(t, i);
		mn.bit_size = btf_member_bitfield_size(t, i);
		mn.type = node(m->type, depth + 1);
		n.members.push_back(std::move(mn));
	}
	path_.pop_back();
}

} // namespace core

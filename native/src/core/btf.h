// Core layer: BTF types resolved into self-contained trees (the mirror of native/types.ts BtfType),
// the object file's checked BTF, and the named structs of an object file.
//
// Resolution is bounded whatever the BTF holds (see limits.h):
//  - Pointers are cut to a type name, so lists and trees through pointers terminate.
//  - A struct or union already on the path from the root to a node (only hostile BTF can do this:
//    C cannot nest a struct in itself by value) becomes {kind: "ref", id, name, size}.
//  - Each tree has a node budget (kBtfTreeNodes), and all trees of one call (a describe, a struct
//    types read) share another (kBtfCallNodes). Within budget, a struct used several times is given in
//    full each time, as before. Past it, a struct or union given in full earlier in the same tree is a
//    {kind: "ref"} too, and one not given yet is {kind: "unknown"} with its size and a name saying so.
//    So `struct s1 { struct s0 a, b, c, d; }` ... `s16` (4^16 leaves) costs a budget, not 4^16 nodes.
//  - Nesting deeper than kBtfMaxDepth is {kind: "unknown", name: "(too deep)"}.
// A ref names a struct or union by BTF type id: the node with the same `id` that comes before it in a
// depth-first, members-in-order walk of the same tree (struct and union nodes carry their `id`). A
// decoder that does not follow refs can treat one as `size` opaque bytes.
// Per-type facts (the type a chain of modifiers leads to, a pointer target's C spelling, sizes) are
// memoised by type id for the life of a resolver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "limits.h"

struct btf;
struct btf_type;

namespace core {

struct BtfNode;
struct BtfMemberNode;
struct BtfEnumValue {
	std::string name;
	int64_t value;
};
// A resolved BTF type. Children are owned by value.
struct BtfNode {
	// void int float ptr array struct union enum typedef fwd func unknown ref
	std::string kind = "void";
	std::string name;
	uint32_t id = 0; // struct, union, ref: the BTF type id
	uint32_t size = 0;
	bool is_signed = false, is_char = false, is_bool = false;
	uint32_t bits = 0;
	std::string target_name;          // ptr
	uint32_t length = 0;              // array
	std::vector<BtfNode> child;       // array elem / typedef target (0 or 1 entries)
	std::vector<BtfMemberNode> members;
	std::vector<BtfEnumValue> values;
};
struct BtfMemberNode {
	std::string name;
	uint32_t bit_offset = 0, bit_size = 0;
	BtfNode type;
};

// Resolves trees of one BTF under one call budget (see the top of this file).
class BtfResolver {
public:
	explicit BtfResolver(const struct btf *btf, size_t tree_budget = kBtfTreeNodes,
			     size_t call_budget = kBtfCallNodes)
		: btf_(btf), tree_budget_(tree_budget), call_budget_(call_budget) {}
	BtfNode resolve(uint32_t id);
	// Nodes produced so far by this resolver (all trees).
	size_t nodes() const { return call_nodes_; }

private:
	BtfNode node(uint32_t id, int depth);
	void composite(BtfNode &n, uint32_t id, const struct btf_type *t, int depth);
	bool over_budget() const { return tree_nodes_ >= tree_budget_ || call_nodes_ >= call_budget_; }
	const struct btf_type *skip_mods(uint32_t &id);
	const std::string &type_name(uint32_t id, int depth);
	uint32_t size_of(uint32_t id);
	std::string name_of(const struct btf_type *t) const;
	std::string name_of_offset(uint32_t off) const;

	const struct btf *btf_;
	size_t tree_budget_, call_budget_;
	size_t tree_nodes_ = 0, call_nodes_ = 0;
	std::vector<uint32_t> path_;            // struct/union ids from the root to the current node
	std::unordered_set<uint32_t> expanded_; // struct/union ids given in full in the current tree
	std::unordered_map<uint32_t, uint32_t> mods_;       // id -> id after const/volatile/restrict/tags
	std::unordered_map<uint32_t, std::string> names_;   // id -> C spelling (pointer targets)
	std::unordered_map<uint32_t, uint32_t> sizes_;      // id -> size in bytes (0 when unknown)
};

// One tree with a resolver of its own.
BtfNode btf_resolve(const struct btf *btf, uint32_t id);

struct BtfFree {
	void operator()(struct btf *b) const;
};
using BtfPtr = std::unique_ptr<struct btf, BtfFree>;

// Throws core::BadInput (field "path") naming the first type whose name offset is outside the string
// section or whose type reference is past the last type. `where` names the BTF in the message.
void check_btf(const struct btf *btf, const std::string &where);

// The object file's .BTF parsed by libbpf and checked (check_btf); nullptr when it has no .BTF
// section; core::BadInput when it is not valid BTF. Call check_bpf_elf first.
BtfPtr load_object_btf(const std::string &path);

// The named structs of an object file's BTF (at most kMaxStructs), resolved under one call budget.
// Only BPF ELF files are read (check_bpf_elf). No kernel involved.
std::vector<std::pair<std::string, BtfNode>> object_struct_types(const std::string &path);

} // namespace core

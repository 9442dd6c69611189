// Core layer: BTF types resolved into self-contained trees (the mirror of native/types.ts BtfType),
// and the named structs of an object file.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct btf;

namespace core {

struct BtfNode;
struct BtfMemberNode;
struct BtfEnumValue {
	std::string name;
	int64_t value;
};
// A resolved BTF type. Children are owned by value.
struct BtfNode {
	std::string kind = "void"; // void int float ptr array struct union enum typedef fwd func unknown
	std::string name;
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
// Resolves type id; const/volatile/restrict/type tags are skipped, pointers are cut to a name,
// nesting deeper than 32 becomes {kind: unknown}.
BtfNode btf_resolve(const struct btf *btf, uint32_t id);

// The named structs of an object file's BTF (at most 4096), resolved. No kernel involved.
std::vector<std::pair<std::string, BtfNode>> object_struct_types(const std::string &path);

} // namespace core

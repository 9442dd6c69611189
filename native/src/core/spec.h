// Core layer: describing an object file without the kernel (programs, maps, global variables with
// their BTF types, struct names), as libbpf sees it before load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "btf.h"

namespace core {

struct ProgramSpec {
	std::string name, section, type, expected_attach_type;
	size_t insn_count = 0;
	bool autoload = false;
};
struct MapSpec {
	std::string name, type;
	uint32_t key_size = 0, value_size = 0, max_entries = 0;
	bool internal = false;
};
struct VariableSpec {
	std::string name, section;
	uint32_t offset = 0, size = 0;
	BtfNode type;
	// The bytes from the object file (zeros for .bss); empty past kMaxVariableInitialBytes (limits.h).
	std::vector<uint8_t> initial;
};
struct ObjectSpec {
	std::string path, name;
	std::vector<ProgramSpec> programs;
	std::vector<MapSpec> maps;
	std::vector<VariableSpec> variables;
	std::vector<std::string> struct_names;
};
ObjectSpec describe_object(const std::string &path);

} // namespace core

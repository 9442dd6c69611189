// Core layer: loading an object file into the kernel with options (programs, variables, max_entries,
// verifier log level and size), retrying until the failing program's verifier log is complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "object.h"

namespace core {

struct LoadOptions {
	std::string path;
	bool has_programs = false;
	std::vector<std::string> programs;
	std::map<std::string, std::vector<uint8_t>> variables;
	std::map<std::string, uint32_t> max_entries;
	uint32_t log_level = 4;
	size_t log_size = 1 << 20;
	// Relocate CO-RE accesses against a minimal copy of the kernel BTF (core_btf.h): the same result,
	// without parsing the whole kernel BTF for this load.
	bool minimal_core_btf = false;
};
struct ProgramReport {
	std::string name, section, type;
	bool loaded = false;
	uint32_t id = 0;
	std::string log;
};
struct LoadResult {
	bool ok = false;
	int err = 0;
	std::string message, program;
	// Set when the input was at fault (core::BadInput): the option or file named by it.
	std::string bad_input_field;
	std::vector<ProgramReport> programs;
	std::string libbpf_log;
	std::unique_ptr<Object> object;
};
// Never throws for a load failure: the result carries errno/message/program instead. A verifier log
// grows on ENOSPC up to kMaxVerifierLogBytes; max_entries overrides are bounded by
// kMaxOverridePreallocBytes (limits.h).
LoadResult load_object(const LoadOptions &opts);

} // namespace core

// Core layer: a loaded program's instructions as the kernel holds them: translated (xlated) BPF
// instructions, the JITed machine code, and line info resolved through the program's BTF.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace core {

struct InsnLineInfo {
	uint32_t insn_off; // in instructions (8-byte units) of the xlated image
	std::string file;
	std::string text;
	uint32_t line;
	uint32_t column;
};

struct ProgramInstructions {
	std::string name;
	std::string tag;
	std::vector<uint8_t> xlated;
	std::vector<uint8_t> jited;
	std::vector<InsnLineInfo> lines;
	// Kernel addresses: where each line info's code starts in the JITed image, and where each
	// function (main program first, then subprograms) starts, with its length.
	std::vector<uint64_t> jited_line_addrs;
	std::vector<uint64_t> jited_ksyms;
	std::vector<uint32_t> jited_func_lens;
};

ProgramInstructions program_instructions(uint32_t prog_id);

} // namespace core

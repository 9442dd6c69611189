// Core layer: is this file a BPF relocatable ELF whose header tables can be trusted? Checked before
// libelf and libbpf read it.
#pragma once

#include <string>

namespace core {

// Throws core::BadInput (field "path", errno ENOEXEC) naming the first thing wrong: not an ELF file,
// not EM_BPF, not ET_REL, not ELF64, section headers past the end of the file or of the wrong size, a
// section running past the end of the file, a section name, symbol name or string table out of range
// or unterminated, a symbol's section or a relocation's symbol out of range. System errors (ENOENT,
// EACCES) are core::Error.
void check_bpf_elf(const std::string &path);

} // namespace core

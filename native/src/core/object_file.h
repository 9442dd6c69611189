// Core layer: opening an object file with libbpf (after checking it is a BPF ELF), and the global
// variables of its data sections. Shared by describe (spec.cc) and load (load.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct bpf_object;
struct bpf_map;
struct btf;

namespace core {

struct ObjCloser {
	void operator()(struct bpf_object *o) const;
};
using ObjPtr = std::unique_ptr<struct bpf_object, ObjCloser>;

struct BtfFree {
	void operator()(struct btf *b) const;
};
using BtfPtr = std::unique_ptr<struct btf, BtfFree>;

// Throws a clear Error when the file is not a BPF relocatable ELF (libbpf would only say "BPF
// object format invalid").
void check_bpf_elf(const std::string &path);

// check_bpf_elf, then bpf_object__open_file; `log` is the captured libbpf log (for its last word).
ObjPtr open_object(const std::string &path, std::string &log);

// A global variable of a .rodata/.data/.bss (or custom .rodata.*/.data.*) section.
struct VarRef {
	std::string name, section;
	uint32_t offset, size, type_id;
	struct bpf_map *map; // the internal map libbpf made for the section, or NULL
};
std::vector<VarRef> data_vars(struct bpf_object *obj);

} // namespace core

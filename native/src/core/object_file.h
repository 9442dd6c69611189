// Core layer: opening an object file with libbpf (after checking it is a BPF ELF), and the global
// variables of its data sections. Shared by describe (spec.cc) and load (load.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct bpf_object;
struct bpf_map;

namespace core {

struct ObjCloser {
	void operator()(struct bpf_object *o) const;
};
using ObjPtr = std::unique_ptr<struct bpf_object, ObjCloser>;

// check_bpf_elf (elf_check.h) and the object's BTF checked (load_object_btf, btf.h), then
// bpf_object__open_file; `log` is the captured libbpf log (for its last word). Hostile or damaged
// files are core::BadInput naming what is wrong.
// `core_btf`, when not empty, is the BTF libbpf relocates CO-RE accesses against (btf_custom_path).
ObjPtr open_object(const std::string &path, std::string &log, const std::string &core_btf = "");

// A global variable of a .rodata/.data/.bss (or custom .rodata.*/.data.*) section.
struct VarRef {
	std::string name, section;
	uint32_t offset, size, type_id;
	struct bpf_map *map; // the internal map libbpf made for the section, or NULL
};
std::vector<VarRef> data_vars(struct bpf_object *obj);

} // namespace core

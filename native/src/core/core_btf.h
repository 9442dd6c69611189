// Core layer: the kernel types an object's CO-RE relocations can reach, as a small BTF that libbpf reads
// instead of the whole kernel BTF (bpf_object_open_opts.btf_custom_path), so a verify does not pay for
// parsing the kernel's BTF again. The kernel BTF itself is parsed once per process.
#pragma once

#include <string>

namespace core {

// A BTF holding every kernel type whose name can be a candidate of one of the object's CO-RE relocations,
// with all the types those reach, in the kernel's order: libbpf finds the same candidates, in the same
// order, and computes the same offsets, sizes and enum values from it as from the whole kernel BTF.
// Returned as a memfd path (/proc/self/fd/N) owned by the returned handle; empty (path "") when the object
// must be relocated against the kernel itself: no CO-RE relocations, a relocation that asks for a kernel
// type id (bpf_core_type_id_kernel), or a type vmlinux lacks (libbpf then looks in module BTFs).
class CoreBtf {
public:
	CoreBtf() = default;
	CoreBtf(const CoreBtf &) = delete;
	CoreBtf &operator=(const CoreBtf &) = delete;
	~CoreBtf();
	const std::string &path() const { return path_; }

	static void build(const std::string &object_path, CoreBtf &out);

private:
	int fd_ = -1;
	std::string path_;
};

} // namespace core

// The named structs of an object file's BTF, resolved into BtfType trees: what the trace panel decodes
// ring/perf buffer events with, and what the map viewer offers when a map has no BTF of its own.
// Reads the file with libbpf only; the kernel is not involved.
#include <bpf/btf.h>

#include <memory>

#include "bpf_core.h"
#include "napi_util.h"

namespace core {

// At most this many structs are returned: an object's BTF only holds the types its code uses, so
// more than this is not a BPF object a person wrote.
constexpr size_t kMaxStructs = 4096;

std::vector<std::pair<std::string, BtfNode>> object_struct_types(const std::string &path)
{
	std::unique_ptr<struct btf, void (*)(struct btf *)> btf(btf__parse_elf(path.c_str(), nullptr), btf__free);
	if (!btf)
		fail(errno, "reading the BTF of " + path);
	std::vector<std::pair<std::string, BtfNode>> out;
	uint32_t n = btf__type_cnt(btf.get());
	for (uint32_t id = 1; id < n && out.size() < kMaxStructs; id++) {
		const struct btf_type *t = btf__type_by_id(btf.get(), id);
		if (!btf_is_struct(t) || !t->name_off)
			continue;
		const char *name = btf__name_by_offset(btf.get(), t->name_off);
		if (name && *name)
			out.emplace_back(name, btf_resolve(btf.get(), id));
	}
	return out;
}

} // namespace core

namespace binding {

Napi::Value object_struct_types(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsString())
		throw Napi::TypeError::New(env, "Usage: objectStructTypes(path: string)");
	auto structs = guarded(env, [&] { return core::object_struct_types(info[0].As<Napi::String>().Utf8Value()); });
	Napi::Object o = Napi::Object::New(env);
	for (const auto &s : structs)
		o.Set(s.first, btf_to_js(env, s.second));
	return o;
}

} // namespace binding

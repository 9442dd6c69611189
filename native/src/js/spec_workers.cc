// N-API layer: describeAsync(path) and structTypesAsync(path): describeObject and objectStructTypes on
// the libuv pool. Reading a big object's BTF can take a while; the helper's JS thread stays free to
// answer while it does.
#include "../core/btf.h"
#include "../core/spec.h"
#include "async.h"

namespace binding {

Napi::Value describe_async(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = get_string(env, info[0], "Usage: describeAsync(path: string)");
	return PromiseWorker<core::ObjectSpec>::queue(
		env, "ebpf-studio:describe", [path] { return core::describe_object(path); },
		[](Napi::Env env, core::ObjectSpec &s) -> Napi::Value { return spec_to_js(env, s); });
}

Napi::Value struct_types_async(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = get_string(env, info[0], "Usage: structTypesAsync(path: string)");
	using Structs = std::vector<std::pair<std::string, core::BtfNode>>;
	return PromiseWorker<Structs>::queue(
		env, "ebpf-studio:structTypes", [path] { return core::object_struct_types(path); },
		[](Napi::Env env, Structs &s) -> Napi::Value { return struct_types_to_js(env, s); });
}

} // namespace binding

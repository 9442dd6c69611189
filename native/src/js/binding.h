// N-API layer: shared by the binding files and the async workers: core -> JS errors, the guard every
// entry point runs its body in, marshalling helpers, and the per-environment handle constructors.
#pragma once

#include <napi.h>

#include "../core/btf.h"
#include "../core/errors.h"
#include "../core/listing.h"
#include "../core/load.h"

namespace binding {

// Error with numeric `errno` and `code` ("EPERM") properties.
Napi::Error to_js_error(Napi::Env env, const core::Error &e);
Napi::Error to_js_error(Napi::Env env, int err, const std::string &msg);

// Runs fn, turning core::Error into a JS Error with errno/code.
template <typename Fn>
auto guarded(Napi::Env env, Fn &&fn) -> decltype(fn())
{
	try {
		return fn();
	} catch (const core::Error &e) {
		throw to_js_error(env, e);
	}
}

// A JS array of each element of v converted by to_js(env, element).
template <typename T, typename Fn>
Napi::Array to_js_array(Napi::Env env, const std::vector<T> &v, Fn &&to_js)
{
	Napi::Array a = Napi::Array::New(env, v.size());
	for (size_t i = 0; i < v.size(); i++)
		a.Set(i, to_js(env, v[i]));
	return a;
}

// Elements JS can take as they are (numbers, strings).
template <typename T>
Napi::Array to_js_array(Napi::Env env, const std::vector<T> &v)
{
	return to_js_array(env, v, [](Napi::Env, const T &x) { return x; });
}

Napi::Value btf_to_js(Napi::Env env, const core::BtfNode &n);
Napi::Buffer<uint8_t> to_buffer(Napi::Env env, const std::vector<uint8_t> &v);
Napi::Object load_outcome_to_js(Napi::Env env, core::LoadResult &res);

// Per-environment constructors of the handle classes.
struct AddonData {
	Napi::FunctionReference loaded_object, attachment, map_handle, stats, consumer;
};
AddonData &addon_data(Napi::Env env);

// Argument checks: each throws a TypeError carrying `usage` when the value does not fit.
[[noreturn]] void type_error(Napi::Env env, const std::string &msg);
std::string get_string(Napi::Env env, Napi::Value v, const char *usage);
uint32_t get_u32(Napi::Env env, Napi::Value v, const char *usage);
Napi::Buffer<uint8_t> get_buffer(Napi::Env env, Napi::Value v, const char *usage);

// What a handle class is constructed with: an External made by the addon; JS cannot construct one.
template <typename T>
T &external_arg(const Napi::CallbackInfo &info, const char *usage)
{
	if (!info[0].IsExternal())
		type_error(info.Env(), usage);
	return *info[0].As<Napi::External<T>>().Data();
}

// Handle classes (object_wrap.cc, map_wrap.cc, events_worker.cc).
Napi::Function define_loaded_object_class(Napi::Env env);
Napi::Function define_attachment_class(Napi::Env env);
Napi::Function define_map_handle_class(Napi::Env env);
Napi::Function define_stats_class(Napi::Env env);
Napi::Function define_consumer_class(Napi::Env env);
Napi::Object map_info_to_js(Napi::Env env, const core::MapInfo &m);

// Module functions, by file.
Napi::Value load_object(const Napi::CallbackInfo &info);          // load_worker.cc
Napi::Value consume_ring_buffer(const Napi::CallbackInfo &info);  // events_worker.cc
Napi::Value consume_perf_buffer(const Napi::CallbackInfo &info);  // events_worker.cc
Napi::Value object_struct_types(const Napi::CallbackInfo &info);  // spec.cc
Napi::Value describe_object(const Napi::CallbackInfo &info);      // spec.cc
Napi::Value lookup_batch_async(const Napi::CallbackInfo &info);   // map_batch_worker.cc
Napi::Value program_instructions(const Napi::CallbackInfo &info); // insns.cc
Napi::Value update_map_with_object(const Napi::CallbackInfo &info); // map_edit.cc
// feature_probes.cc: probeMapType, probeHelper, probeHelperNames.
void register_feature_probes(Napi::Env env, Napi::Object exports);
// kernel.cc: listing, pins, stats, maps by id, test runs.
void register_kernel_functions(Napi::Env env, Napi::Object exports);

} // namespace binding

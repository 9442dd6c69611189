// Shared by the binding and the workers: JS <-> core marshalling helpers.
#pragma once

#include <napi.h>

#include "bpf_core.h"

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

// Defined in load_worker.cc / events_worker.cc.
Napi::Value load_object(const Napi::CallbackInfo &info);
Napi::Value consume_ring_buffer(const Napi::CallbackInfo &info);
Napi::Value consume_perf_buffer(const Napi::CallbackInfo &info);
Napi::Function define_consumer_class(Napi::Env env);
// Defined in btf_structs.cc.
Napi::Value object_struct_types(const Napi::CallbackInfo &info);
// Defined in map_batch_worker.cc.
Napi::Value lookup_batch_async(const Napi::CallbackInfo &info);
// Defined in feature_probes.cc: probeMapType, probeHelper, probeHelperNames.
void register_feature_probes(Napi::Env env, Napi::Object exports);
// Defined in insns.cc.
Napi::Value program_instructions(const Napi::CallbackInfo &info);
// Defined in map_edit.cc.
Napi::Value update_map_with_object(const Napi::CallbackInfo &info);

} // namespace binding

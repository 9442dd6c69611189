// N-API layer: shared by the binding files and the async workers: core -> JS errors, the guard every
// entry point runs its body in, marshalling helpers, and the per-environment handle constructors.
#pragma once

#include <napi.h>

#include "../core/btf.h"
#include "../core/errors.h"
#include "../core/listing.h"
#include "../core/load.h"
#include "../core/spec.h"

namespace binding {

// A failure as plain C++ (safe to make on a worker thread): what the JS error will say.
//   kind "BadInput": core::BadInput, malformed or over-limit input; `field` names the input.
//   kind "Internal": anything else a C++ exception can be (std::bad_alloc, std::logic_error, ...).
//   no kind: core::Error, a failed system call; errno says which.
struct Failure {
	const char *kind = nullptr;
	int err = 0;
	std::string message, field;
};
// The exception being handled, as a Failure. Call only inside a catch block.
Failure current_failure() noexcept;
// Error with `message`, numeric `errno`, `code` ("EPERM"), and `kind`/`field` when set.
Napi::Error to_js_error(Napi::Env env, const Failure &f);
Napi::Error to_js_error(Napi::Env env, int err, const std::string &msg);

// Runs fn; any C++ exception but a JS one becomes a typed JS error (see Failure). Every entry point
// runs its body in here, so no exception reaches N-API (where it would call std::terminate).
template <typename Fn>
auto guarded(Napi::Env env, Fn &&fn) -> decltype(fn())
{
	try {
		return fn();
	} catch (const Napi::Error &) {
		throw;
	} catch (...) {
		throw to_js_error(env, current_failure());
	}
}

// A module function with its whole body guarded.
template <Napi::Value (*F)(const Napi::CallbackInfo &)>
Napi::Value entry(const Napi::CallbackInfo &info)
{
	return guarded(info.Env(), [&] { return F(info); });
}
template <void (*F)(const Napi::CallbackInfo &)>
void entry(const Napi::CallbackInfo &info)
{
	guarded(info.Env(), [&] { F(info); });
}
template <Napi::Value (*F)(const Napi::CallbackInfo &)>
void export_fn(Napi::Env env, Napi::Object exports, const char *name)
{
	exports.Set(name, Napi::Function::New<entry<F>>(env, name));
}
template <void (*F)(const Napi::CallbackInfo &)>
void export_fn(Napi::Env env, Napi::Object exports, const char *name)
{
	exports.Set(name, Napi::Function::New<entry<F>>(env, name));
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
	Napi::FunctionReference trace_pipe;
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
Napi::Value describe_async(const Napi::CallbackInfo &info);       // spec_workers.cc
Napi::Value struct_types_async(const Napi::CallbackInfo &info);   // spec_workers.cc
Napi::Value limits(const Napi::CallbackInfo &info);               // kernel.cc
Napi::Object spec_to_js(Napi::Env env, const core::ObjectSpec &s);                        // spec.cc
Napi::Object struct_types_to_js(Napi::Env env, const std::vector<std::pair<std::string, core::BtfNode>> &v); // spec.cc
// feature_probes.cc: probeMapType, probeHelper, probeHelperNames.
void register_feature_probes(Napi::Env env, Napi::Object exports);
// kernel.cc: listing, pins, stats, maps by id, test runs.
void register_kernel_functions(Napi::Env env, Napi::Object exports);
// trace_pipe_worker.cc: readTracePipe and its reader class.
void register_trace_pipe(Napi::Env env, Napi::Object exports);

} // namespace binding

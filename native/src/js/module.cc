// N-API layer: the module's entry point. Registers the handle classes and every exported function;
// the work is in core/, blocking work in the *_worker.cc files.
#include "../core/names.h"
#include "binding.h"

namespace binding {
namespace {

Napi::Value libbpf_version(const Napi::CallbackInfo &info)
{
	return Napi::String::New(info.Env(), core::libbpf_version());
}

Napi::Object init(Napi::Env env, Napi::Object exports)
{
	AddonData *data = new AddonData();
	env.SetInstanceData(data);
	data->loaded_object = Napi::Persistent(define_loaded_object_class(env));
	data->attachment = Napi::Persistent(define_attachment_class(env));
	data->map_handle = Napi::Persistent(define_map_handle_class(env));
	data->stats = Napi::Persistent(define_stats_class(env));
	data->consumer = Napi::Persistent(define_consumer_class(env));

	exports.Set("libbpfVersion", Napi::Function::New<libbpf_version>(env, "libbpfVersion"));
	exports.Set("describeObject", Napi::Function::New<describe_object>(env, "describeObject"));
	exports.Set("loadObject", Napi::Function::New<load_object>(env, "loadObject"));
	exports.Set("consumeRingBuffer", Napi::Function::New<consume_ring_buffer>(env, "consumeRingBuffer"));
	exports.Set("consumePerfBuffer", Napi::Function::New<consume_perf_buffer>(env, "consumePerfBuffer"));
	exports.Set("updateMapWithObject", Napi::Function::New<update_map_with_object>(env, "updateMapWithObject"));
	exports.Set("objectStructTypes", Napi::Function::New<object_struct_types>(env, "objectStructTypes"));
	exports.Set("lookupBatchAsync", Napi::Function::New<lookup_batch_async>(env, "lookupBatchAsync"));
	exports.Set("programInstructions", Napi::Function::New<program_instructions>(env, "programInstructions"));
	register_kernel_functions(env, exports);
	register_feature_probes(env, exports);
	return exports;
}

} // namespace
} // namespace binding

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	return binding::init(env, exports);
}

NODE_API_MODULE(ebpf_studio, Init)

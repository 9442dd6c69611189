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

	export_fn<libbpf_version>(env, exports, "libbpfVersion");
	export_fn<describe_object>(env, exports, "describeObject");
	export_fn<describe_async>(env, exports, "describeAsync");
	export_fn<struct_types_async>(env, exports, "structTypesAsync");
	export_fn<limits>(env, exports, "limits");
	export_fn<load_object>(env, exports, "loadObject");
	export_fn<consume_ring_buffer>(env, exports, "consumeRingBuffer");
	export_fn<consume_perf_buffer>(env, exports, "consumePerfBuffer");
	export_fn<object_struct_types>(env, exports, "objectStructTypes");
	export_fn<lookup_batch_async>(env, exports, "lookupBatchAsync");
	export_fn<program_instructions>(env, exports, "programInstructions");
	export_fn<update_map_with_object>(env, exports, "updateMapWithObject");
	register_kernel_functions(env, exports);
	register_feature_probes(env, exports);
	register_trace_pipe(env, exports);
	return exports;
}

} // namespace
} // namespace binding

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	return binding::init(env, exports);
}

NODE_API_MODULE(ebpf_studio, Init)

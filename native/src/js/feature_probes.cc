// N-API: probeMapType, probeHelper and probeHelperNames over core/feature_probes.
#include "../core/feature_probes.h"
#include "binding.h"

namespace binding {

Napi::Value probe_map_type(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsString())
		throw Napi::TypeError::New(env, "Usage: probeMapType(type: string)");
	return Napi::Number::New(env, guarded(env, [&] { return core::probe_map_type(info[0].As<Napi::String>().Utf8Value()); }));
}

Napi::Value probe_helper(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString())
		throw Napi::TypeError::New(env, "Usage: probeHelper(programType: string, helper: string)");
	return Napi::Number::New(env, guarded(env, [&] {
		return core::probe_helper(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value());
	}));
}

Napi::Value probe_helper_names(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	return to_js_array(env, core::probe_helper_names());
}

void register_feature_probes(Napi::Env env, Napi::Object exports)
{
	export_fn<probe_map_type>(env, exports, "probeMapType");
	export_fn<probe_helper>(env, exports, "probeHelper");
	export_fn<probe_helper_names>(env, exports, "probeHelperNames");
}

} // namespace binding

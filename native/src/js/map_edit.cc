// N-API layer: updateMapWithObject, writes of map entries whose values are fds when written and ids
// when read (prog_array, array/hash of maps); the work is core::update_map_with_object.
#include <string>

#include "../core/maps.h"
#include "binding.h"

namespace binding {

Napi::Value update_map_with_object(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	const char *usage = "Usage: updateMapWithObject(mapId: number, key: Buffer, kind: 'program' | 'map', "
			    "objectId: number, flags: number)";
	if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsBuffer() || !info[2].IsString() ||
	    !info[3].IsNumber() || !info[4].IsNumber())
		throw Napi::TypeError::New(env, usage);
	std::string kind = info[2].As<Napi::String>().Utf8Value();
	if (kind != "program" && kind != "map")
		throw Napi::TypeError::New(env, usage);
	uint32_t map_id = info[0].As<Napi::Number>().Uint32Value();
	uint32_t object_id = info[3].As<Napi::Number>().Uint32Value();
	uint32_t flags = info[4].As<Napi::Number>().Uint32Value();
	auto key = info[1].As<Napi::Buffer<uint8_t>>();
	guarded(env, [&] {
		core::update_map_with_object(map_id, key.Data(), key.Length(), kind == "program", object_id, flags);
	});
	return env.Undefined();
}

} // namespace binding

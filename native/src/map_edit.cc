// Writes of map entries whose values are file descriptors when written and ids when read (prog_array,
// array/hash of maps): the new value names a program or map by kernel id, which is opened here for the
// write and closed again, so a value never means "whatever the helper holds under that fd number".
#include <bpf/bpf.h>
#include <cerrno>
#include <string>

#include "napi_util.h"

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
		std::unique_ptr<core::MapHandle> map = core::MapHandle::open_id(map_id);
		if (key.Length() != map->info().key_size)
			throw core::Error(EINVAL, "a key of map " + map->info().name + " has " +
							  std::to_string(map->info().key_size) + " bytes, not " +
							  std::to_string(key.Length()));
		if (map->info().value_size != 4)
			throw core::Error(EINVAL, "map " + map->info().name + " does not hold object descriptors");
		core::Fd object(kind == "program" ? bpf_prog_get_fd_by_id(object_id) : bpf_map_get_fd_by_id(object_id));
		if (!object)
			core::fail(errno, "open " + kind + " " + std::to_string(object_id));
		uint32_t fd = (uint32_t)object.get();
		map->update(key.Data(), reinterpret_cast<const uint8_t *>(&fd), flags);
	});
	return env.Undefined();
}

} // namespace binding

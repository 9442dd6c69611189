// N-API layer: batch lookups of a map by id on a libuv worker thread (kernel 5.6 for batch ops): the
// helper reads the next page of a map dump from the kernel while its JS thread encodes and sends the
// previous one. Plain batch lookups only; map types without them fail with the kernel's errno
// (EINVAL/ENOTSUPP), and the caller falls back to MapHandle.lookupBatch, which walks keys. Pages are
// bounded in bytes as MapHandle's are (core/map_batch.cc).
#include "../core/maps.h"
#include "async.h"

namespace binding {
namespace {

// One page from a handle opened for this read (the worker keeps no fd between pages).
core::BatchRead read_page(uint32_t map_id, uint32_t max_count, const std::vector<uint8_t> &cursor, bool has_cursor)
{
	std::unique_ptr<core::MapHandle> map = core::MapHandle::open_id(map_id);
	core::BatchRead r;
	int err = map->lookup_batch_page(max_count, has_cursor ? &cursor : nullptr, r);
	if (err)
		core::fail(err, "batch lookup in map " + map->info().name);
	return r;
}

} // namespace

Napi::Value lookup_batch_async(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	const char *usage = "Usage: lookupBatchAsync(mapId: number, maxCount: number, cursor?: Buffer)";
	uint32_t map_id = get_u32(env, info[0], usage);
	uint32_t max_count = get_u32(env, info[1], usage);
	if (max_count == 0 || (!info[2].IsUndefined() && !info[2].IsBuffer()))
		type_error(env, usage);
	std::vector<uint8_t> cursor;
	bool has_cursor = info[2].IsBuffer();
	if (has_cursor) {
		auto b = info[2].As<Napi::Buffer<uint8_t>>();
		cursor.assign(b.Data(), b.Data() + b.Length());
	}
	return PromiseWorker<core::BatchRead>::queue(
		env, "ebpf-studio:lookupBatch",
		[=] { return read_page(map_id, max_count, cursor, has_cursor); },
		[](Napi::Env env, core::BatchRead &page) -> Napi::Value {
			Napi::Object o = Napi::Object::New(env);
			o.Set("keys", to_buffer(env, page.keys));
			o.Set("values", to_buffer(env, page.values));
			o.Set("count", page.count);
			if (page.has_next)
				o.Set("next", to_buffer(env, page.next));
			return o;
		});
}

} // namespace binding

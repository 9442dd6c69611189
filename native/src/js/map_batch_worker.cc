// N-API layer: pages of a map dump by id on a libuv worker thread: the helper reads the next page from the
// kernel while its JS thread sends the previous one, and a slow walk never blocks it. Batch-or-walk is
// decided in core::read_dump_page; its cursor (mode byte + token or last key) passes through JS opaque.
// Pages are bounded in bytes as MapHandle's are (core/map_batch.cc).
#include "../core/maps.h"
#include "async.h"

namespace binding {
namespace {


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
		[=] { return core::read_dump_page(map_id, max_count, has_cursor ? &cursor : nullptr); },
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

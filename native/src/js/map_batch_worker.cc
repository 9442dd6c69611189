// N-API layer: batch lookups of a map by id on a libuv worker thread (kernel 5.6 for batch ops): the helper reads the
// next page of a map dump from the kernel while its JS thread encodes and sends the previous one.
// Plain batch lookups only; map types without them fail with the kernel's errno (EINVAL/ENOTSUPP), and
// the caller falls back to MapHandle.lookupBatch, which walks keys.
#include "../core/maps.h"
#include "binding.h"

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

class MapBatchWorker : public Napi::AsyncWorker {
public:
	MapBatchWorker(Napi::Env env, uint32_t map_id, uint32_t max_count, std::vector<uint8_t> cursor, bool has_cursor)
	    : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), map_id_(map_id),
	      max_count_(max_count), cursor_(std::move(cursor)), has_cursor_(has_cursor)
	{
	}

	Napi::Promise promise() { return deferred_.Promise(); }

	void Execute() override
	{
		try {
			page_ = read_page(map_id_, max_count_, cursor_, has_cursor_);
		} catch (const core::Error &e) {
			err_ = e.err();
			SetError(e.what());
		}
	}

	void OnOK() override
	{
		Napi::Env env = Env();
		Napi::Object o = Napi::Object::New(env);
		o.Set("keys", to_buffer(env, page_.keys));
		o.Set("values", to_buffer(env, page_.values));
		o.Set("count", page_.count);
		if (page_.has_next)
			o.Set("next", to_buffer(env, page_.next));
		deferred_.Resolve(o);
	}

	void OnError(const Napi::Error &e) override
	{
		deferred_.Reject(to_js_error(Env(), err_, e.Message()).Value());
	}

private:
	Napi::Promise::Deferred deferred_;
	uint32_t map_id_, max_count_;
	std::vector<uint8_t> cursor_;
	bool has_cursor_;
	core::BatchRead page_;
	int err_ = 0;
};

} // namespace

Napi::Value lookup_batch_async(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber() || (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsBuffer()))
		throw Napi::TypeError::New(env, "Usage: lookupBatchAsync(mapId: number, maxCount: number, cursor?: Buffer)");
	std::vector<uint8_t> cursor;
	bool has_cursor = info.Length() > 2 && info[2].IsBuffer();
	if (has_cursor) {
		auto b = info[2].As<Napi::Buffer<uint8_t>>();
		cursor.assign(b.Data(), b.Data() + b.Length());
	}
	auto *worker = new MapBatchWorker(env, info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value(),
					  std::move(cursor), has_cursor);
	Napi::Promise promise = worker->promise();
	worker->Queue();
	return promise;
}

} // namespace binding

// N-API layer: pages of a map dump by id on a libuv worker thread: the helper reads the next page from the
// kernel while its JS thread sends the previous one, and a slow walk never blocks it. Batch-or-walk is
// decided in core::read_dump_page; its cursor (mode byte + token or last key) passes through JS opaque.
#include <exception>

#include "../core/maps.h"
#include "binding.h"

namespace binding {
namespace {

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
			page_ = core::read_dump_page(map_id_, max_count_, has_cursor_ ? &cursor_ : nullptr);
		} catch (const core::Error &e) {
			err_ = e.err();
			SetError(e.what());
		} catch (const std::exception &e) {
			// Anything else (bad_alloc) is an error of this call, never a crash of the helper.
			err_ = ENOMEM;
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

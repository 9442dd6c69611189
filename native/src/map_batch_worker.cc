// Pages of a map by id on a libuv worker thread: the helper reads the next page of a map dump from the
// kernel while its JS thread sends the previous one, and a slow walk never blocks it. This is the one
// place that decides between batch lookups (kernel 5.6; hash and array types) and walking keys (every
// other listable type, and older kernels): the first page tries a batch and walks when the kernel says
// the type has none. The cursor says which way a dump goes: its first byte is kBatch or kWalk, then the
// kernel's batch token or the last key read.
#include <cerrno>

#include "napi_util.h"

namespace binding {
namespace {

constexpr uint8_t kBatch = 1, kWalk = 2;
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

// Walks keys after `last` (none: from the start) with get-next-key + lookup.
core::BatchRead walk_page(core::MapHandle &map, uint32_t max_count, const std::vector<uint8_t> *last)
{
	core::BatchRead r;
	const uint32_t ks = map.info().key_size;
	std::vector<uint8_t> prev, key, value;
	bool started = last != nullptr;
	if (last) {
		if (last->size() != ks)
			throw core::Error(EINVAL, "cursor does not belong to map " + map.info().name);
		prev = *last;
	}
	while (r.count < max_count) {
		if (!map.next_key(started ? prev.data() : nullptr, key))
			return r;
		started = true;
		prev = key;
		if (!map.lookup(key.data(), value))
			continue; // deleted meanwhile
		r.keys.insert(r.keys.end(), key.begin(), key.end());
		r.values.insert(r.values.end(), value.begin(), value.end());
		r.count++;
	}
	r.has_next = true;
	r.next = prev;
	return r;
}

// One page from a handle opened for this read (the worker keeps no fd between pages); the returned
// cursor carries its mode byte.
core::BatchRead read_page(uint32_t map_id, uint32_t max_count, const std::vector<uint8_t> &cursor, bool has_cursor)
{
	std::unique_ptr<core::MapHandle> map = core::MapHandle::open_id(map_id);
	core::BatchRead r;
	uint8_t mode = kBatch;
	std::vector<uint8_t> inner;
	if (has_cursor) {
		if (cursor.empty() || (cursor[0] != kBatch && cursor[0] != kWalk))
			throw core::Error(EINVAL, "cursor does not belong to a map dump");
		mode = cursor[0];
		inner.assign(cursor.begin() + 1, cursor.end());
	}
	if (mode == kBatch) {
		int err = map->lookup_batch_page(max_count, has_cursor ? &inner : nullptr, r);
		if ((err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP) && !has_cursor) {
			mode = kWalk;
			r = walk_page(*map, max_count, nullptr);
		} else if (err) {
			core::fail(err, "batch lookup in map " + map->info().name);
		}
	} else {
		r = walk_page(*map, max_count, &inner);
	}
	if (r.has_next)
		r.next.insert(r.next.begin(), mode);
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

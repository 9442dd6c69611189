// Batch lookups of a map by id on a libuv worker thread (kernel 5.6 for batch ops): the helper reads the
// next page of a map dump from the kernel while its JS thread encodes and sends the previous one.
// Plain batch lookups only; map types without them fail with the kernel's errno (EINVAL/ENOTSUPP), and
// the caller falls back to MapHandle.lookupBatch, which walks keys.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "napi_util.h"

namespace binding {
namespace {

struct PageRead {
	std::vector<uint8_t> keys, values, next;
	uint32_t count = 0;
	bool has_next = false;
};

PageRead read_page(uint32_t map_id, uint32_t max_count, const std::vector<uint8_t> &cursor, bool has_cursor)
{
	core::Fd fd(bpf_map_get_fd_by_id(map_id));
	if (!fd)
		core::fail(errno, "open map " + std::to_string(map_id));
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd.get(), &info, &len))
		core::fail(errno, "map info of " + std::to_string(map_id));
	size_t value_size = info.value_size;
	if (core::map_type_is_percpu(info.type))
		value_size = ((info.value_size + 7) / 8 * 8) * libbpf_num_possible_cpus();
	// Hash maps use a u32 bucket cursor, arrays a key: room for either.
	size_t tok = std::max<size_t>(info.key_size, 8);
	std::vector<uint8_t> in(tok, 0), out(tok, 0);
	if (has_cursor)
		memcpy(in.data(), cursor.data(), std::min(tok, cursor.size()));
	uint32_t want = std::max<uint32_t>(1, max_count);
	PageRead r;
	for (;;) {
		r.keys.resize((size_t)want * info.key_size);
		r.values.resize((size_t)want * value_size);
		uint32_t count = want;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int err = bpf_map_lookup_batch(fd.get(), has_cursor ? in.data() : nullptr, out.data(), r.keys.data(),
					       r.values.data(), &count, &opts);
		err = err ? errno : 0;
		if (err == ENOSPC && count == 0 && want < info.max_entries) {
			// One hash bucket holds more than `want` entries: make room for it.
			want = std::min(want * 2, info.max_entries);
			continue;
		}
		if (err && err != ENOENT)
			core::fail(err, "batch lookup in map " + std::string(info.name));
		r.count = count;
		r.keys.resize((size_t)count * info.key_size);
		r.values.resize((size_t)count * value_size);
		r.has_next = err != ENOENT;
		if (r.has_next)
			r.next = out;
		return r;
	}
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
	PageRead page_;
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

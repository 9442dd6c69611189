// N-API layer: consumeRingBuffer / consumePerfBuffer. core::EventPump polls on its own thread; its
// batches reach the JS callback one call per batch (batch_stream.h). With
// manualRelease, consumer.release(bytes) gives the pump its credit back (end-to-end backpressure).
// consumer.recycle(data) hands a batch's Buffer back once it has been written out: later batches are copied
// into it instead of into fresh memory (a page fault per 4 KiB in a VM costs more than the copy).
#include "../core/events.h"
#include "batch_stream.h"

#include <cstring>

namespace binding {
namespace {

class ConsumerWrap : public BatchStream<ConsumerWrap, core::EventBatch> {
	friend class BatchStream<ConsumerWrap, core::EventBatch>;

public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "EventConsumer",
				   {InstanceMethod<&ConsumerWrap::close_js>("close"),
				    InstanceMethod<&ConsumerWrap::release_js>("release"),
				    InstanceMethod<&ConsumerWrap::recycle_js>("recycle")});
	}

	ConsumerWrap(const Napi::CallbackInfo &info)
		: BatchStream(info, "EventConsumer cannot be constructed; use consumeRingBuffer()")
	{
	}
	~ConsumerWrap() { stop(); }

	// Sets up the buffer and starts the thread; throws core::Error.
	void start_pump(Napi::Env env, bool ring, uint32_t map_id, uint32_t pages, Napi::Function cb, int64_t window,
			bool manual_release)
	{
		Napi::Object buffer = env.Global().Get("Buffer").As<Napi::Object>();
		buffer_ = Napi::Persistent(buffer);
		buffer_from_ = Napi::Persistent(buffer.Get("from").As<Napi::Function>());
		start(env, cb, ring ? "ebpf-studio:ringbuf" : "ebpf-studio:perfbuf", [&](auto post) {
			pump_.start(ring, map_id, pages, std::move(post), window, manual_release);
		});
	}

private:
	void close_js(const Napi::CallbackInfo &) { stop(); }

	void release_js(const Napi::CallbackInfo &info)
	{
		if (!info[0].IsNumber() || info[0].As<Napi::Number>().DoubleValue() < 0)
			throw Napi::TypeError::New(info.Env(), "Usage: consumer.release(bytes: number)");
		pump_.release((int64_t)info[0].As<Napi::Number>().DoubleValue());
	}

	// Takes back a Buffer this consumer handed out (a view of one of its pool's ArrayBuffers); anything else
	// is ignored. The caller must hold no other reference it still reads: the next batch overwrites it.
	void recycle_js(const Napi::CallbackInfo &info)
	{
		if (!info[0].IsTypedArray())
			throw Napi::TypeError::New(info.Env(), "Usage: consumer.recycle(data: Buffer)");
		Napi::ArrayBuffer ab = info[0].As<Napi::TypedArray>().ArrayBuffer();
		if (ab.ByteLength() != core::kBatchCapacity)
			return;
		recycling_ = true;
		if (pool_.size() >= kJsPoolBuffers)
			return;
		for (auto &r : pool_)
			if (r.Value().StrictEquals(ab))
				return;
		pool_.push_back(Napi::Persistent(ab));
	}

	// A batch's bytes as a Buffer: copied into a recycled pool buffer when the caller recycles, else into
	// a new Buffer of their size.
	Napi::Value batch_bytes(Napi::Env env, const std::vector<uint8_t> &data)
	{
		if (!recycling_ || data.size() > core::kBatchCapacity)
			return to_buffer(env, data);
		Napi::ArrayBuffer ab;
		if (!pool_.empty()) {
			ab = pool_.back().Value();
			pool_.pop_back();
		} else {
			ab = Napi::ArrayBuffer::New(env, core::kBatchCapacity);
		}
		if (!data.empty())
			memcpy(ab.Data(), data.data(), data.size());
		return buffer_from_.Call(buffer_.Value(),
					 {ab, Napi::Number::New(env, 0), Napi::Number::New(env, (double)data.size())});
	}

	// Batches still queued at close() are discarded (the pump marks them closed).
	void stop_source() { pump_.stop(); }
	static bool batch_closed(const core::EventBatch &b) { return b.shared->closed; }

	Napi::Object batch_to_js(Napi::Env env, core::EventBatch &b)
	{
		b.delivered = true;
		Napi::Object o = Napi::Object::New(env);
		o.Set("data", batch_bytes(env, b.data));
		o.Set("count", b.count);
		o.Set("lost", Napi::Number::New(env, (double)b.lost));
		if (b.dropped)
			o.Set("droppedInAddon", Napi::Number::New(env, (double)b.dropped));
		if (b.resyncs)
			o.Set("resynced", Napi::Number::New(env, (double)b.resyncs));
		return o;
	}

	static constexpr size_t kJsPoolBuffers = 4;
	core::EventPump pump_;
	// JavaScript thread only.
	Napi::ObjectReference buffer_;
	Napi::FunctionReference buffer_from_;
	std::vector<Napi::Reference<Napi::ArrayBuffer>> pool_;
	bool recycling_ = false;
};

Napi::Value start_consumer(const Napi::CallbackInfo &info, bool ring)
{
	Napi::Env env = info.Env();
	const char *usage =
		ring ? "Usage: consumeRingBuffer(mapId: number, onBatch: (batch) => void, options?: {windowBytes?: number, "
		       "manualRelease?: boolean})"
		     : "Usage: consumePerfBuffer(mapId: number, pageCount: number, onBatch: (batch) => void, options?: "
		       "{windowBytes?: number, manualRelease?: boolean})";
	uint32_t pages = 0;
	Napi::Value id = info[0], cb = ring ? info[1] : info[2], opts = ring ? info[2] : info[3];
	if (!id.IsNumber() || id.As<Napi::Number>().DoubleValue() < 0 || !cb.IsFunction())
		throw Napi::TypeError::New(env, usage);
	int64_t window = core::kDefaultWindowBytes;
	bool manual = false;
	if (!opts.IsUndefined()) {
		if (!opts.IsObject())
			throw Napi::TypeError::New(env, usage);
		Napi::Object o = opts.As<Napi::Object>();
		Napi::Value w = o.Get("windowBytes"), m = o.Get("manualRelease");
		if (!w.IsUndefined()) {
			if (!w.IsNumber() || w.As<Napi::Number>().DoubleValue() < 4096 ||
			    w.As<Napi::Number>().DoubleValue() > double(1LL << 32))
				throw Napi::TypeError::New(env, "windowBytes must be between 4096 and 2^32");
			window = (int64_t)w.As<Napi::Number>().DoubleValue();
		}
		if (!m.IsUndefined()) {
			if (!m.IsBoolean())
				throw Napi::TypeError::New(env, usage);
			manual = m.As<Napi::Boolean>().Value();
		}
	}
	if (!ring) {
		if (!info[1].IsNumber())
			throw Napi::TypeError::New(env, usage);
		pages = info[1].As<Napi::Number>().Uint32Value();
		// perf buffers want a power of two pages per CPU.
		if (pages == 0 || (pages & (pages - 1)))
			throw Napi::TypeError::New(env, "pageCount must be a power of two, got " +
							std::to_string(pages));
	}
	Napi::Object o;
	ConsumerWrap *c = ConsumerWrap::create(addon_data(env).consumer, o);
	guarded(env, [&] {
		c->start_pump(env, ring, id.As<Napi::Number>().Uint32Value(), pages, cb.As<Napi::Function>(), window,
			 manual);
	});
	return o;
}

} // namespace

Napi::Function define_consumer_class(Napi::Env env)
{
	return ConsumerWrap::define(env);
}

Napi::Value consume_ring_buffer(const Napi::CallbackInfo &info)
{
	return start_consumer(info, true);
}

Napi::Value consume_perf_buffer(const Napi::CallbackInfo &info)
{
	return start_consumer(info, false);
}

} // namespace binding

// N-API layer: consumeRingBuffer / consumePerfBuffer. core::EventPump polls on its own thread; its
// batches reach the JS callback through a thread-safe function, one call per batch. With
// manualRelease, consumer.release(bytes) gives the pump its credit back (end-to-end backpressure).
// consumer.recycle(data) hands a batch's Buffer back once it has been written out: later batches are copied
// into it instead of into fresh memory (a page fault per 4 KiB in a VM costs more than the copy).
#include "../core/events.h"
#include "binding.h"

#include <cstring>

namespace binding {
namespace {

class ConsumerWrap : public Napi::ObjectWrap<ConsumerWrap> {
public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "EventConsumer",
				   {InstanceMethod<&ConsumerWrap::close_js>("close"),
				    InstanceMethod<&ConsumerWrap::release_js>("release"),
				    InstanceMethod<&ConsumerWrap::recycle_js>("recycle")});
	}

	ConsumerWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ConsumerWrap>(info)
	{
		if (!info[0].IsExternal())
			throw Napi::TypeError::New(info.Env(),
						   "EventConsumer cannot be constructed; use consumeRingBuffer()");
	}
	~ConsumerWrap() { stop(); }

	// Sets up the buffer and starts the thread; throws core::Error.
	void start(Napi::Env env, bool ring, uint32_t map_id, uint32_t pages, Napi::Function cb, int64_t window,
		   bool manual_release)
	{
		Napi::Object buffer = env.Global().Get("Buffer").As<Napi::Object>();
		buffer_ = Napi::Persistent(buffer);
		buffer_from_ = Napi::Persistent(buffer.Get("from").As<Napi::Function>());
		tsfn_ = Napi::ThreadSafeFunction::New(env, cb, ring ? "ebpf-studio:ringbuf" : "ebpf-studio:perfbuf",
						      0, 1);
		try {
			pump_.start(
				ring, map_id, pages,
				[this](std::unique_ptr<core::EventBatch> b) { return post(std::move(b)); }, window,
				manual_release);
		} catch (...) {
			tsfn_.Release();
			throw;
		}
		// Kept alive while consuming, as the thread-safe function keeps the loop alive.
		Ref();
		running_ = true;
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

	void stop()
	{
		if (!running_)
			return;
		running_ = false;
		// Batches still queued are discarded by the JS-side callback (the pump marks them closed).
		pump_.stop();
		tsfn_.Release();
		Unref();
	}

	// Poll thread: hands a batch to the JS thread.
	bool post(std::unique_ptr<core::EventBatch> b)
	{
		core::EventBatch *raw = b.release();
		// The wrap outlives every call that finds the pump open: it stays referenced until stop().
		napi_status st = tsfn_.NonBlockingCall(raw, [this](Napi::Env env, Napi::Function cb, core::EventBatch *b) {
			std::unique_ptr<core::EventBatch> own(b);
			if (!env || own->shared->closed)
				return;
			own->delivered = true;
			guarded(env, [&] {
				Napi::Object o = Napi::Object::New(env);
				o.Set("data", batch_bytes(env, own->data));
				o.Set("count", own->count);
				o.Set("lost", Napi::Number::New(env, (double)own->lost));
				if (own->dropped)
					o.Set("droppedInAddon", Napi::Number::New(env, (double)own->dropped));
				if (own->resyncs)
					o.Set("resynced", Napi::Number::New(env, (double)own->resyncs));
				cb.Call({o});
			});
		});
		if (st != napi_ok) {
			delete raw;
			return false;
		}
		return true;
	}

	static constexpr size_t kJsPoolBuffers = 4;
	bool running_ = false;
	core::EventPump pump_;
	Napi::ThreadSafeFunction tsfn_;
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
	int dummy = 0;
	Napi::Object o = addon_data(env).consumer.New({Napi::External<int>::New(env, &dummy)});
	ConsumerWrap *c = ConsumerWrap::Unwrap(o);
	guarded(env, [&] {
		c->start(env, ring, id.As<Napi::Number>().Uint32Value(), pages, cb.As<Napi::Function>(), window,
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

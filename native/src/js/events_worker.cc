// N-API layer: consumeRingBuffer / consumePerfBuffer. core::EventPump polls on its own thread; its
// batches reach the JS callback through a thread-safe function, one call per batch. With
// manualRelease, consumer.release(bytes) gives the pump its credit back (end-to-end backpressure).
#include "../core/events.h"
#include "binding.h"

namespace binding {
namespace {

class ConsumerWrap : public Napi::ObjectWrap<ConsumerWrap> {
public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "EventConsumer",
				   {InstanceMethod<&ConsumerWrap::close_js>("close"),
				    InstanceMethod<&ConsumerWrap::release_js>("release")});
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
		napi_status st = tsfn_.NonBlockingCall(raw, [](Napi::Env env, Napi::Function cb, core::EventBatch *b) {
			std::unique_ptr<core::EventBatch> own(b);
			if (!env || own->shared->closed)
				return;
			own->delivered = true;
			guarded(env, [&] {
				Napi::Object o = Napi::Object::New(env);
				o.Set("data", to_buffer(env, own->data));
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

	bool running_ = false;
	core::EventPump pump_;
	Napi::ThreadSafeFunction tsfn_;
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

// Ring buffer (kernel 5.8) and perf buffer (4.3) consumers. A dedicated thread polls and packs
// records into batches (the record layout of extension/formats/records.ts: [u32 len][bytes], each
// record padded to 8 bytes) that reach JS through a thread-safe function at most every ~10 ms or per
// ~1 MiB: one JS call per batch, never one per event.
//
// Backpressure: the thread hands out at most `windowBytes` of batches that JS has not released
// (automatically when the batch reaches JS, or with consumer.release(bytes) once the extension host
// has taken it). Out of credit, it stops draining the kernel's buffer: what the program cannot write
// is lost in the kernel (ring buffer reserve failures, perf lost samples), never inside eBPF Studio.
#include <atomic>
#include <bpf/libbpf.h>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "napi_util.h"

namespace binding {
namespace {

constexpr size_t kFlushBytes = 1 << 20;
constexpr auto kFlushInterval = std::chrono::milliseconds(10);
constexpr int64_t kDefaultWindowBytes = 64 << 20;
// Returned by the ring buffer callback to stop draining (the record in hand is kept).
constexpr int kOutOfCredit = -ENOBUFS;

struct Shared {
	// Bytes of batches the thread may still hand to JS.
	std::atomic<int64_t> credit{kDefaultWindowBytes};
	std::atomic<bool> closed{false};
	bool manual_release = false;
	std::mutex mu;
	std::condition_variable cv;

	void release(int64_t bytes)
	{
		credit += bytes;
		std::lock_guard<std::mutex> lock(mu);
		cv.notify_all();
	}
};

struct Batch {
	std::vector<uint8_t> data;
	uint32_t count = 0;
	uint64_t lost = 0, dropped = 0;
	std::shared_ptr<Shared> shared;
};

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
		ring_ = ring;
		shared_ = std::make_shared<Shared>();
		shared_->credit = window;
		shared_->manual_release = manual_release;
		if (ring) {
			map_fd_.reset(core::open_map_fd_checked(map_id, BPF_MAP_TYPE_RINGBUF, "consume ring buffer"));
			rb_ = ring_buffer__new(map_fd_.get(), &ConsumerWrap::on_ring_sample, this, nullptr);
			if (!rb_)
				core::fail(errno, "consume ring buffer: map " + std::to_string(map_id));
		} else {
			map_fd_.reset(core::open_map_fd_checked(map_id, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
								"consume perf buffer"));
			pb_ = perf_buffer__new(map_fd_.get(), pages, &ConsumerWrap::on_perf_sample,
					       &ConsumerWrap::on_perf_lost, this, nullptr);
			if (!pb_)
				core::fail(errno, "consume perf buffer: map " + std::to_string(map_id));
		}
		tsfn_ = Napi::ThreadSafeFunction::New(env, cb, ring ? "ebpf-studio:ringbuf" : "ebpf-studio:perfbuf",
						      0, 1);
		// Kept alive while consuming, as the thread-safe function keeps the loop alive.
		Ref();
		running_ = true;
		thread_ = std::thread([this] { poll_loop(); });
	}

private:
	void close_js(const Napi::CallbackInfo &) { stop(); }

	void release_js(const Napi::CallbackInfo &info)
	{
		if (!info[0].IsNumber() || info[0].As<Napi::Number>().DoubleValue() < 0)
			throw Napi::TypeError::New(info.Env(), "Usage: consumer.release(bytes: number)");
		if (shared_)
			shared_->release((int64_t)info[0].As<Napi::Number>().DoubleValue());
	}

	void stop()
	{
		if (!running_)
			return;
		running_ = false;
		stop_ = true;
		{
			std::lock_guard<std::mutex> lock(shared_->mu);
			shared_->cv.notify_all();
		}
		if (thread_.joinable())
			thread_.join();
		if (rb_)
			ring_buffer__free(rb_);
		if (pb_)
			perf_buffer__free(pb_);
		rb_ = nullptr;
		pb_ = nullptr;
		map_fd_.reset();
		// Batches still queued are discarded by the JS-side callback.
		shared_->closed = true;
		tsfn_.Release();
		Unref();
	}

	static int on_ring_sample(void *ctx, void *data, size_t size)
	{
		// libbpf has already consumed this record: keep it, then stop while out of credit.
		return static_cast<ConsumerWrap *>(ctx)->append(data, size) ? 0 : kOutOfCredit;
	}
	static void on_perf_sample(void *ctx, int cpu, void *data, __u32 size)
	{
		static_cast<ConsumerWrap *>(ctx)->append(data, size);
	}
	static void on_perf_lost(void *ctx, int cpu, __u64 cnt)
	{
		static_cast<ConsumerWrap *>(ctx)->lost_ += cnt;
	}

	bool has_credit() const { return shared_->credit.load() - (int64_t)cur_.size() > 0; }

	// Poll thread only from here on. Returns false once the window is used up.
	bool append(const void *data, size_t size)
	{
		size_t rec = (4 + size + 7) & ~size_t(7);
		if (size > UINT32_MAX) {
			dropped_++;
			return has_credit();
		}
		if (cur_.empty())
			batch_start_ = std::chrono::steady_clock::now();
		size_t off = cur_.size();
		cur_.resize(off + rec, 0);
		uint32_t len = size;
		memcpy(&cur_[off], &len, 4);
		memcpy(&cur_[off + 4], data, size);
		count_++;
		if (cur_.size() >= kFlushBytes)
			flush();
		return has_credit();
	}

	void flush()
	{
		if (!count_ && !lost_ && !dropped_)
			return;
		Batch *b = new Batch();
		b->data.swap(cur_);
		b->count = count_;
		b->lost = lost_;
		b->dropped = dropped_;
		b->shared = shared_;
		count_ = 0;
		lost_ = 0;
		dropped_ = 0;
		size_t bytes = b->data.size();
		shared_->credit -= bytes;
		napi_status st = tsfn_.NonBlockingCall(b, [](Napi::Env env, Napi::Function cb, Batch *b) {
			std::unique_ptr<Batch> own(b);
			if (!own->shared->manual_release)
				own->shared->release(own->data.size());
			if (!env || own->shared->closed)
				return;
			Napi::Object o = Napi::Object::New(env);
			o.Set("data", to_buffer(env, own->data));
			o.Set("count", own->count);
			o.Set("lost", Napi::Number::New(env, (double)own->lost));
			if (own->dropped)
				o.Set("droppedInAddon", Napi::Number::New(env, (double)own->dropped));
			cb.Call({o});
		});
		if (st != napi_ok) {
			// Only when the function is being released (closing): nothing waits for these.
			shared_->credit += bytes;
			delete b;
		}
		cur_.reserve(64 << 10);
	}

	void poll_loop()
	{
		while (!stop_) {
			if (!has_credit()) {
				// Hand over what is packed, then wait for JS to release; the kernel keeps the rest.
				flush();
				std::unique_lock<std::mutex> lock(shared_->mu);
				shared_->cv.wait_for(lock, std::chrono::milliseconds(50),
						     [this] { return stop_.load() || has_credit(); });
				continue;
			}
			int timeout = 100;
			if (count_ || lost_ || dropped_) {
				auto age = std::chrono::steady_clock::now() - batch_start_;
				auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kFlushInterval - age);
				timeout = std::max<int>(0, left.count());
			}
			// Consume what is there without waiting first: records left behind while out of credit
			// raise no new wakeup (the kernel notifies only a consumer that has caught up).
			int n = ring_ ? ring_buffer__consume(rb_) : perf_buffer__consume(pb_);
			if (n == 0 || n == -EINTR)
				n = ring_ ? ring_buffer__poll(rb_, timeout) : perf_buffer__poll(pb_, timeout);
			if (n == kOutOfCredit)
				n = 0;
			if (n < 0 && n != -EINTR) {
				fprintf(stderr, "ebpf-studio: %s poll failed: %s\n", ring_ ? "ring buffer" : "perf buffer",
					strerror(-n));
				break;
			}
			if (lost_ && !count_ && cur_.empty())
				batch_start_ = std::chrono::steady_clock::now() - kFlushInterval;
			if ((count_ || lost_ || dropped_) &&
			    std::chrono::steady_clock::now() - batch_start_ >= kFlushInterval)
				flush();
		}
	}

	bool ring_ = true;
	bool running_ = false;
	std::atomic<bool> stop_{false};
	core::Fd map_fd_;
	struct ring_buffer *rb_ = nullptr;
	struct perf_buffer *pb_ = nullptr;
	std::thread thread_;
	Napi::ThreadSafeFunction tsfn_;
	std::shared_ptr<Shared> shared_;
	std::vector<uint8_t> cur_;
	uint32_t count_ = 0;
	uint64_t lost_ = 0, dropped_ = 0;
	std::chrono::steady_clock::time_point batch_start_;
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
	int64_t window = kDefaultWindowBytes;
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

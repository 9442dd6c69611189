// N-API layer: readTracePipe. core::TracePipeReader reads trace_pipe on its own thread; its batches reach
// the JS callback through a thread-safe function, one call per batch. reader.allow(totalBytes) says how many
// bytes of batches, counted since the start, the thread may hand over (the owner's credit); close() wakes
// the thread, joins it and closes its descriptors before it returns.
#include "../core/trace_pipe_reader.h"
#include "binding.h"

namespace binding {
namespace {

const char *kUsage =
	"Usage: readTracePipe(tracefs: string, onBatch: (batch) => void, options?: {allowBytes?: number})";
// Byte counts cross as doubles: exact up to 2^53.
constexpr double kMaxBytes = 9007199254740992.0;

class TracePipeWrap : public Napi::ObjectWrap<TracePipeWrap> {
public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "TracePipeReader",
				   {InstanceMethod<&TracePipeWrap::close_js>("close"),
				    InstanceMethod<&TracePipeWrap::allow_js>("allow")});
	}

	TracePipeWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<TracePipeWrap>(info)
	{
		if (!info[0].IsExternal())
			throw Napi::TypeError::New(info.Env(),
						   "TracePipeReader cannot be constructed; use readTracePipe()");
	}
	~TracePipeWrap() { stop(); }

	// Opens trace_pipe and starts the thread; throws core::Error.
	void start(Napi::Env env, const std::string &tracefs, Napi::Function cb, uint64_t allowed)
	{
		tsfn_ = Napi::ThreadSafeFunction::New(env, cb, "ebpf-studio:trace_pipe", 0, 1);
		try {
			reader_.start(
				tracefs, [this](std::unique_ptr<core::TraceBatch> b) { return post(std::move(b)); },
				allowed);
		} catch (...) {
			tsfn_.Release();
			throw;
		}
		// Kept alive while reading, as the thread-safe function keeps the loop alive.
		Ref();
		running_ = true;
	}

private:
	void close_js(const Napi::CallbackInfo &) { stop(); }

	void allow_js(const Napi::CallbackInfo &info)
	{
		if (!info[0].IsNumber() || !(info[0].As<Napi::Number>().DoubleValue() >= 0) ||
		    info[0].As<Napi::Number>().DoubleValue() > kMaxBytes)
			throw Napi::TypeError::New(info.Env(), "Usage: reader.allow(totalBytes: number)");
		reader_.allow((uint64_t)info[0].As<Napi::Number>().DoubleValue());
	}

	void stop()
	{
		if (!running_)
			return;
		running_ = false;
		// Batches still queued are discarded by the JS-side callback (stop() marks them closed).
		reader_.stop();
		tsfn_.Release();
		Unref();
	}

	// Reader thread: hands a batch to the JS thread.
	bool post(std::unique_ptr<core::TraceBatch> b)
	{
		core::TraceBatch *raw = b.release();
		napi_status st = tsfn_.NonBlockingCall(raw, [](Napi::Env env, Napi::Function cb, core::TraceBatch *b) {
			std::unique_ptr<core::TraceBatch> own(b);
			if (!env || own->closed->load())
				return;
			guarded(env, [&] {
				Napi::Object o = Napi::Object::New(env);
				o.Set("data", to_buffer(env, own->data));
				o.Set("count", own->count);
				o.Set("overrun", Napi::Number::New(env, (double)own->overrun));
				if (!own->error.empty())
					o.Set("error", own->error);
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
	core::TracePipeReader reader_;
	Napi::ThreadSafeFunction tsfn_;
};

Napi::Value read_trace_pipe(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string tracefs = get_string(env, info[0], kUsage);
	if (!info[1].IsFunction())
		throw Napi::TypeError::New(env, kUsage);
	double allowed = 8 << 20;
	if (!info[2].IsUndefined()) {
		if (!info[2].IsObject())
			throw Napi::TypeError::New(env, kUsage);
		Napi::Value a = info[2].As<Napi::Object>().Get("allowBytes");
		if (!a.IsUndefined()) {
			if (!a.IsNumber() || !(a.As<Napi::Number>().DoubleValue() >= 0) ||
			    a.As<Napi::Number>().DoubleValue() > kMaxBytes)
				throw Napi::TypeError::New(env, "allowBytes must be a number between 0 and 2^53");
			allowed = a.As<Napi::Number>().DoubleValue();
		}
	}
	int dummy = 0;
	Napi::Object o = addon_data(env).trace_pipe.New({Napi::External<int>::New(env, &dummy)});
	TracePipeWrap *r = TracePipeWrap::Unwrap(o);
	r->start(env, tracefs, info[1].As<Napi::Function>(), (uint64_t)allowed);
	return o;
}

} // namespace

void register_trace_pipe(Napi::Env env, Napi::Object exports)
{
	addon_data(env).trace_pipe = Napi::Persistent(TracePipeWrap::define(env));
	export_fn<read_trace_pipe>(env, exports, "readTracePipe");
}

} // namespace binding

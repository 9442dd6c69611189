// N-API layer: readTracePipe. core::TracePipeReader reads trace_pipe on its own thread; its batches reach
// the JS callback one call per batch (batch_stream.h). reader.allow(totalBytes) says how many
// bytes of batches, counted since the start, the thread may hand over (the owner's credit); close() wakes
// the thread, joins it and closes its descriptors before it returns.
#include "../core/trace_pipe_reader.h"
#include "batch_stream.h"

namespace binding {
namespace {

const char *kUsage =
	"Usage: readTracePipe(tracefs: string, onBatch: (batch) => void, options?: {allowBytes?: number})";
// Byte counts cross as doubles: exact up to 2^53.
constexpr double kMaxBytes = 9007199254740992.0;

class TracePipeWrap : public BatchStream<TracePipeWrap, core::TraceBatch> {
	friend class BatchStream<TracePipeWrap, core::TraceBatch>;

public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "TracePipeReader",
				   {InstanceMethod<&TracePipeWrap::close_js>("close"),
				    InstanceMethod<&TracePipeWrap::allow_js>("allow")});
	}

	TracePipeWrap(const Napi::CallbackInfo &info)
		: BatchStream(info, "TracePipeReader cannot be constructed; use readTracePipe()")
	{
	}
	~TracePipeWrap() { stop(); }

	// Opens trace_pipe and starts the thread; throws core::Error.
	void start_reader(Napi::Env env, const std::string &tracefs, Napi::Function cb, uint64_t allowed)
	{
		start(env, cb, "ebpf-studio:trace_pipe",
		      [&](auto post) { reader_.start(tracefs, std::move(post), allowed); });
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

	// Batches still queued at close() are discarded (stop() marks them closed).
	void stop_source() { reader_.stop(); }
	static bool batch_closed(const core::TraceBatch &b) { return b.closed->load(); }

	Napi::Object batch_to_js(Napi::Env env, core::TraceBatch &b)
	{
		Napi::Object o = Napi::Object::New(env);
		o.Set("data", to_buffer(env, b.data));
		o.Set("count", b.count);
		o.Set("overrun", Napi::Number::New(env, (double)b.overrun));
		if (!b.error.empty())
			o.Set("error", b.error);
		return o;
	}

	core::TracePipeReader reader_;
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
	Napi::Object o;
	TracePipeWrap *r = TracePipeWrap::create(addon_data(env).trace_pipe, o);
	r->start_reader(env, tracefs, info[1].As<Napi::Function>(), (uint64_t)allowed);
	return o;
}

} // namespace

void register_trace_pipe(Napi::Env env, Napi::Object exports)
{
	addon_data(env).trace_pipe = Napi::Persistent(TracePipeWrap::define(env));
	export_fn<read_trace_pipe>(env, exports, "readTracePipe");
}

} // namespace binding

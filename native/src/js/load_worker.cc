// N-API layer: loadObject(): the verifier can take seconds, so the load runs on the libuv pool.
// Execute() fills a core::LoadResult; OnOK() converts it on the JS thread.
#include "binding.h"

namespace binding {
namespace {

const char *kUsage =
	"Usage: loadObject({path: string, programs?: string[], variables?: {[name: string]: Buffer}, "
	"maxEntries?: {[name: string]: number}, logLevel?: number, logSize?: number})";

class LoadWorker : public Napi::AsyncWorker {
public:
	LoadWorker(Napi::Env env, core::LoadOptions opts)
		: Napi::AsyncWorker(env, "ebpf-studio:loadObject"),
		  deferred_(Napi::Promise::Deferred::New(env)), opts_(std::move(opts))
	{
	}
	Napi::Promise promise() { return deferred_.Promise(); }

protected:
	void Execute() override
	{
		try {
			res_ = core::load_object(opts_);
		} catch (const core::Error &e) {
			res_ = core::LoadResult();
			res_.err = e.err();
			res_.message = e.what();
		} catch (const std::exception &e) {
			SetError(e.what());
		}
	}
	void OnOK() override { deferred_.Resolve(load_outcome_to_js(Env(), res_)); }
	void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

private:
	Napi::Promise::Deferred deferred_;
	core::LoadOptions opts_;
	core::LoadResult res_;
};

[[noreturn]] void usage(Napi::Env env, const std::string &detail = "")
{
	throw Napi::TypeError::New(env, detail.empty() ? kUsage : std::string(kUsage) + ": " + detail);
}

} // namespace

Napi::Value load_object(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsObject())
		usage(env);
	Napi::Object o = info[0].As<Napi::Object>();
	core::LoadOptions opts;
	if (!o.Get("path").IsString())
		usage(env);
	opts.path = o.Get("path").As<Napi::String>().Utf8Value();

	Napi::Value progs = o.Get("programs");
	if (!progs.IsUndefined()) {
		if (!progs.IsArray())
			usage(env, "programs must be an array of names");
		Napi::Array a = progs.As<Napi::Array>();
		opts.has_programs = true;
		for (uint32_t i = 0; i < a.Length(); i++) {
			if (!a.Get(i).IsString())
				usage(env, "programs must be an array of names");
			opts.programs.push_back(a.Get(i).As<Napi::String>().Utf8Value());
		}
	}
	Napi::Value vars = o.Get("variables");
	if (!vars.IsUndefined()) {
		if (!vars.IsObject())
			usage(env, "variables must map names to Buffers");
		Napi::Object vo = vars.As<Napi::Object>();
		Napi::Array names = vo.GetPropertyNames();
		for (uint32_t i = 0; i < names.Length(); i++) {
			std::string name = names.Get(i).ToString().Utf8Value();
			Napi::Value v = vo.Get(name);
			if (!v.IsBuffer())
				usage(env, "variables." + name + " must be a Buffer");
			Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
			opts.variables[name].assign(b.Data(), b.Data() + b.Length());
		}
	}
	Napi::Value maxe = o.Get("maxEntries");
	if (!maxe.IsUndefined()) {
		if (!maxe.IsObject())
			usage(env, "maxEntries must map names to numbers");
		Napi::Object mo = maxe.As<Napi::Object>();
		Napi::Array names = mo.GetPropertyNames();
		for (uint32_t i = 0; i < names.Length(); i++) {
			std::string name = names.Get(i).ToString().Utf8Value();
			Napi::Value v = mo.Get(name);
			double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
			if (d < 1 || d > 4294967295.0 || d != (double)(uint32_t)d)
				usage(env, "maxEntries." + name + " must be a positive integer");
			opts.max_entries[name] = (uint32_t)d;
		}
	}
	Napi::Value level = o.Get("logLevel");
	if (!level.IsUndefined()) {
		double d = level.IsNumber() ? level.As<Napi::Number>().DoubleValue() : -1;
		if (d < 0 || d > 7 || d != (double)(uint32_t)d)
			usage(env, "logLevel must be 0..7 (1, 2, or-ed with 4)");
		opts.log_level = (uint32_t)d;
	}
	Napi::Value size = o.Get("logSize");
	if (!size.IsUndefined()) {
		double d = size.IsNumber() ? size.As<Napi::Number>().DoubleValue() : -1;
		// The kernel wants at least 128 bytes; libbpf caps at UINT32_MAX >> 2 (1 GiB).
		if (d < 128 || d > (double)(1u << 30) || d != (double)(uint32_t)d)
			usage(env, "logSize must be an integer between 128 and 1 GiB");
		opts.log_size = (size_t)d;
	}

	LoadWorker *w = new LoadWorker(env, std::move(opts));
	Napi::Promise p = w->promise();
	w->Queue();
	return p;
}

} // namespace binding

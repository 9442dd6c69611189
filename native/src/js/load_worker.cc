// N-API layer: loadObject(): the verifier can take seconds, so the load runs on the libuv pool. The
// worker fills a core::LoadResult (a failed load is a result, not a rejection); the JS thread converts it.
#include "../core/limits.h"
#include "../core/names.h"
#include "async.h"

namespace binding {
namespace {

const char *kUsage =
	"Usage: loadObject({path: string, programs?: string[], variables?: {[name: string]: Buffer}, "
	"maxEntries?: {[name: string]: number}, logLevel?: number, logSize?: number})";

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
	Napi::Value minimal = o.Get("minimalCoreBtf");
	if (!minimal.IsUndefined()) {
		if (!minimal.IsBoolean())
			usage(env, "minimalCoreBtf must be a boolean");
		opts.minimal_core_btf = minimal.As<Napi::Boolean>().Value();
	}
	Napi::Value size = o.Get("logSize");
	if (!size.IsUndefined()) {
		double d = size.IsNumber() ? size.As<Napi::Number>().DoubleValue() : -1;
		// The kernel wants at least 128 bytes; the addon keeps a log within kMaxVerifierLogBytes.
		if (d < 128 || d != (double)(uint64_t)d)
			usage(env, "logSize must be an integer of at least 128");
		if (d > (double)core::kMaxVerifierLogBytes)
			throw core::BadInput("logSize", "logSize " + std::to_string((uint64_t)d) + " is over the " +
								core::byte_size(core::kMaxVerifierLogBytes) + " limit for verifier logs",
					     E2BIG);
		opts.log_size = (size_t)d;
	}

	return PromiseWorker<core::LoadResult>::queue(
		env, "ebpf-studio:loadObject",
		[opts] {
			try {
				return core::load_object(opts);
			} catch (const core::BadInput &e) {
				core::LoadResult res;
				res.err = e.err();
				res.message = e.what();
				res.bad_input_field = e.field();
				return res;
			} catch (const core::Error &e) {
				core::LoadResult res;
				res.err = e.err();
				res.message = e.what();
				return res;
			}
		},
		[](Napi::Env env, core::LoadResult &res) -> Napi::Value { return load_outcome_to_js(env, res); });
}

} // namespace binding

// N-API layer: PromiseWorker, blocking core work on the libuv pool behind a Promise, so the caller's
// event loop stays free. Execute() runs the work on a pool thread and keeps any exception as a plain
// C++ Failure; the JS thread resolves with the converted result or rejects with the typed error.
#pragma once

#include <functional>

#include "binding.h"

namespace binding {

template <typename Result>
class PromiseWorker : public Napi::AsyncWorker {
public:
	using Work = std::function<Result()>;
	using ToJs = std::function<Napi::Value(Napi::Env, Result &)>;

	// Queues work; the promise resolves with to_js(result).
	static Napi::Promise queue(Napi::Env env, const char *name, Work work, ToJs to_js)
	{
		auto *w = new PromiseWorker(env, name, std::move(work), std::move(to_js));
		Napi::Promise p = w->deferred_.Promise();
		w->Queue();
		return p;
	}

protected:
	void Execute() override
	{
		try {
			result_ = work_();
		} catch (...) {
			failure_ = current_failure();
			SetError(failure_.message);
		}
	}

	void OnOK() override
	{
		Napi::Env env = Env();
		try {
			deferred_.Resolve(to_js_(env, result_));
		} catch (const Napi::Error &e) {
			deferred_.Reject(e.Value());
		} catch (...) {
			deferred_.Reject(to_js_error(env, current_failure()).Value());
		}
	}

	void OnError(const Napi::Error &) override { deferred_.Reject(to_js_error(Env(), failure_).Value()); }

private:
	PromiseWorker(Napi::Env env, const char *name, Work work, ToJs to_js)
		: Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)),
		  work_(std::move(work)), to_js_(std::move(to_js))
	{
	}

	Napi::Promise::Deferred deferred_;
	Work work_;
	ToJs to_js_;
	Result result_;
	Failure failure_;
};

} // namespace binding

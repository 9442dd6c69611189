// N-API layer: the lifecycle both streaming handle classes share (EventConsumer in events_worker.cc,
// TracePipeReader in trace_pipe_worker.cc). A core thread posts batches through a thread-safe function to
// one JS callback, one call per batch; the handle stays referenced, and the event loop alive, while its
// thread runs; close() stops the thread before it returns, and batches still queued then are dropped on the
// JS thread.
#pragma once

#include "binding.h"

#include <memory>

namespace binding {

// Derived (CRTP) provides:
//   void stop_source();                         stops and joins its core thread
//   static bool batch_closed(const Batch &);    the batch was posted before close(): drop it
//   Napi::Object batch_to_js(Napi::Env, Batch &);
// (reachable from this class: public, or this class a friend), its own close() calling stop(), and stop()
// from its destructor, while its core thread object still exists.
template <typename Derived, typename Batch>
class BatchStream : public Napi::ObjectWrap<Derived> {
public:
	// A new handle, constructed through the class's constructor with the External JS cannot make.
	static Derived *create(Napi::FunctionReference &ctor, Napi::Object &handle)
	{
		int token = 0;
		handle = ctor.New({Napi::External<int>::New(ctor.Env(), &token)});
		return Derived::Unwrap(handle);
	}

protected:
	BatchStream(const Napi::CallbackInfo &info, const char *not_constructible)
		: Napi::ObjectWrap<Derived>(info)
	{
		if (!info[0].IsExternal())
			throw Napi::TypeError::New(info.Env(), not_constructible);
	}

	// Creates the thread-safe function, then start_source(post) starts the core thread with `post` as the
	// way it hands over a batch (false: not delivered, the batch is freed). Throws what start_source throws.
	template <typename StartFn>
	void start(Napi::Env env, Napi::Function cb, const char *name, StartFn &&start_source)
	{
		tsfn_ = Napi::ThreadSafeFunction::New(env, cb, name, 0, 1);
		try {
			start_source([this](std::unique_ptr<Batch> b) { return post(std::move(b)); });
		} catch (...) {
			tsfn_.Release();
			throw;
		}
		this->Ref();
		running_ = true;
	}

	void stop()
	{
		if (!running_)
			return;
		running_ = false;
		static_cast<Derived *>(this)->stop_source();
		tsfn_.Release();
		this->Unref();
	}

private:
	// Core thread: hands a batch to the JS thread.
	bool post(std::unique_ptr<Batch> b)
	{
		Batch *raw = b.release();
		napi_status st = tsfn_.NonBlockingCall(raw, [this](Napi::Env env, Napi::Function cb, Batch *b) {
			std::unique_ptr<Batch> own(b);
			// A closed batch may arrive after the handle was collected: decided without touching it.
			if (!env || Derived::batch_closed(*own))
				return;
			guarded(env, [&] { cb.Call({static_cast<Derived *>(this)->batch_to_js(env, *own)}); });
		});
		if (st != napi_ok) {
			delete raw;
			return false;
		}
		return true;
	}

	bool running_ = false;
	Napi::ThreadSafeFunction tsfn_;
};

} // namespace binding

// Core layer: how stop() wakes a consumer thread that sleeps on a descriptor (the ring/perf event pump, the
// trace_pipe reader): an eventfd the thread polls beside its source, so stop() returns once the thread has
// seen it instead of after the thread's poll timeout.
#pragma once

#include "errors.h"

namespace core {

class StopSignal {
public:
	// Creates the eventfd; throws core::Error naming `what`.
	void open(const char *what);
	// Wakes every wait() now and later; any thread. Cannot fail for an eventfd far from its maximum count.
	void raise();
	// Waits up to timeout_ms (-1: no limit) for `fd` to be readable or the signal raised; 0 or -errno.
	int wait(int fd, int timeout_ms) const;
	void close() { fd_.reset(); }

private:
	Fd fd_;
};

} // namespace core

// Core layer: a reader of tracefs trace_pipe (bpf_printk output) on a thread of its own. The thread
// sleeps in poll() on trace_pipe (readable as soon as the kernel's trace ring holds a line) and on an
// eventfd that stop() signals, reads until the pipe is empty, and packs whole lines as records (the
// layout of extension/formats/records.ts: [u32 len][bytes], each record padded to 8 bytes) into batches
// handed to a sink at most every ~10 ms or per 256 KiB.
//
// Backpressure: the thread hands off batches only while the bytes it has handed off in all stay below
// the limit its owner sets with allow(). At the limit it stops reading: lines stay in the kernel's trace
// ring, and what the ring overwrites unread is counted there (per_cpu/cpuN/stats "overrun"), which each
// batch carries as the growth of that count since the previous batch.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "errors.h"
#include "stop_signal.h"

namespace core {

struct TraceBatch {
	std::vector<uint8_t> data;
	uint32_t count = 0;
	// Entries the trace ring overwrote unread (any writer's) since the previous batch.
	uint64_t overrun = 0;
	// Set on the last batch when reading trace_pipe failed; the thread has ended.
	std::string error;
	// Set by stop(): a batch still queued for the sink's thread is then to be discarded.
	std::shared_ptr<std::atomic<bool>> closed;
};

class TracePipeReader {
public:
	// Takes a batch; false when it could not be queued (the batch is then lost, and so are its lines).
	using Sink = std::function<bool(std::unique_ptr<TraceBatch>)>;

	TracePipeReader() = default;
	~TracePipeReader() { stop(); }
	TracePipeReader(const TracePipeReader &) = delete;
	TracePipeReader &operator=(const TracePipeReader &) = delete;

	// Opens <tracefs>/trace_pipe and starts the thread, which may hand off up to `allowed` bytes before
	// the next allow(); throws core::Error.
	void start(const std::string &tracefs, Sink sink, uint64_t allowed);
	// Lets the thread hand off batches while their bytes, counted since start, stay below `total`. Any thread.
	void allow(uint64_t total);
	// Wakes the thread (asleep in poll or waiting for credit), joins it and closes its descriptors.
	void stop();
	bool running() const { return running_; }

private:
	bool has_credit() const { return sent_ + cur_.size() < allowed_.load(); }
	void add_lines(const char *p, size_t n);
	void add_record(const char *a, size_t an, const char *b, size_t bn);
	uint64_t overruns_total();
	void check_overruns(bool now);
	void flush(std::string error = "");
	void loop();

	bool running_ = false;
	std::atomic<bool> stop_{false};
	std::atomic<uint64_t> allowed_{0};
	std::mutex mu_;
	std::condition_variable cv_;
	Fd pipe_fd_;
	StopSignal stop_signal_;
	std::vector<Fd> stats_fds_;
	std::thread thread_;
	Sink sink_;
	std::shared_ptr<std::atomic<bool>> closed_;
	// Thread only from here on.
	uint64_t sent_ = 0;
	std::vector<uint8_t> cur_;
	uint32_t count_ = 0;
	std::string partial_;
	uint64_t overruns_seen_ = 0, overrun_ = 0;
	// Lines were read since the overrun counters were last read.
	bool read_since_check_ = false;
	std::chrono::steady_clock::time_point batch_start_, overruns_read_at_;
};

} // namespace core

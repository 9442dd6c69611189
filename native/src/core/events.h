// Core layer: ring buffer (kernel 5.8, read by RingReader) and perf buffer (4.3, libbpf) consumers. A
// dedicated thread polls and packs records into batches (the record layout of
// extension/formats/records.ts: [u32 len][bytes], each record padded to 8 bytes) handed to a sink at most
// every ~10 ms or per ~1 MiB: one hand-off per batch, never one per event.
//
// Backpressure: the thread hands off at most `window_bytes` of batches that have not been released
// (automatically when a batch is freed, or with release(bytes) once the extension host has taken it,
// in manual mode). Out of credit, it stops draining the kernel's buffer: what the program cannot write
// is lost in the kernel (ring buffer reserve failures, perf lost samples), never inside eBPF Studio.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "errors.h"
#include "ring_reader.h"
#include "stop_signal.h"

struct perf_buffer;

namespace core {

constexpr int64_t kDefaultWindowBytes = 64 << 20;
// A batch is flushed once it reaches kFlushBytes; kBatchCapacity leaves room for the record that crosses it.
constexpr size_t kFlushBytes = 1 << 20;
constexpr size_t kBatchCapacity = kFlushBytes + (64 << 10);

// State shared by a pump and the batches it has handed off.
struct PumpShared {
	// Bytes of batches the thread may still hand off.
	std::atomic<int64_t> credit{kDefaultWindowBytes};
	std::atomic<bool> closed{false};
	// Credit comes back only through EventPump::release, not when a delivered batch is freed.
	bool manual_release = false;
	std::mutex mu;
	std::condition_variable cv;

	void release(int64_t bytes);
	// Batch buffers come back here once their batch is freed (its bytes copied to JavaScript), so the
	// thread packs into memory already mapped instead of fresh pages for every batch: in a VM a page
	// fault per 4 KiB costs more than packing the events on it.
	void recycle(std::vector<uint8_t> &&buffer);
	// A recycled buffer (emptied, its capacity kept), or an empty one.
	std::vector<uint8_t> take();

private:
	std::mutex pool_mu_;
	std::vector<std::vector<uint8_t>> pool_;
};

struct EventBatch {
	std::vector<uint8_t> data;
	uint32_t count = 0;
	uint64_t lost = 0, dropped = 0;
	// Set by the consumer once the batch has reached its reader; in manual mode its credit then comes
	// back through release(), otherwise (and for a batch never delivered) when it is freed.
	bool delivered = false;
	// Ring buffer: times the reader found positions or lengths it could not trust and skipped to the
	// producer's position (the records in between are lost; see RingReader).
	uint64_t resyncs = 0;
	std::shared_ptr<PumpShared> shared;
	~EventBatch();
};

class EventPump {
public:
	// Takes a batch; false when it could not be queued (the batch is then dropped).
	using Sink = std::function<bool(std::unique_ptr<EventBatch>)>;

	EventPump() = default;
	~EventPump() { stop(); }
	EventPump(const EventPump &) = delete;
	EventPump &operator=(const EventPump &) = delete;

	// Opens the map's buffer and starts the poll thread; throws core::Error, and core::BadInput for
	// more than kMaxPerfPagesPerCpu perf pages per CPU. window_bytes bounds the bytes handed off and not
	// released; manual_release: see PumpShared.
	void start(bool ring, uint32_t map_id, uint32_t pages, Sink sink, int64_t window_bytes = kDefaultWindowBytes,
		   bool manual_release = false);
	// Gives back `bytes` of credit (the data length of batches the reader has taken); any thread.
	void release(int64_t bytes);
	// Joins the thread and frees the buffer; batches still queued see shared()->closed.
	void stop();
	bool running() const { return running_; }

private:
	static void on_perf_sample(void *ctx, int cpu, void *data, uint32_t size);
	static void on_perf_lost(void *ctx, int cpu, unsigned long long cnt);
	bool has_credit() const;
	bool append(const void *data, size_t size);
	void flush();
	void poll_loop();

	bool ring_ = true;
	bool running_ = false;
	std::atomic<bool> stop_{false};
	Fd map_fd_;
	StopSignal wake_;
	std::unique_ptr<RingReader> ring_reader_;
	uint64_t resyncs_seen_ = 0;
	struct perf_buffer *pb_ = nullptr;
	std::thread thread_;
	Sink sink_;
	std::shared_ptr<PumpShared> shared_;
	std::vector<uint8_t> cur_;
	uint32_t count_ = 0;
	uint64_t lost_ = 0, dropped_ = 0;
	std::chrono::steady_clock::time_point batch_start_;
};

} // namespace core

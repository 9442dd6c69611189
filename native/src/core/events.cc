// Core layer: EventPump, the poll thread and batching behind the ring and perf buffer consumers.
#include "events.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/bpf.h>

#include "limits.h"
#include "listing.h"
#include "maps.h"

namespace core {
namespace {

constexpr size_t kFlushBytes = 1 << 20;
constexpr auto kFlushInterval = std::chrono::milliseconds(10);
// Bytes handed off (in flight + current batch) beyond which records are dropped and counted, so a
// stalled consumer cannot grow memory without bound.
constexpr size_t kMaxPendingBytes = 64 << 20;

} // namespace

EventBatch::~EventBatch()
{
	if (shared)
		shared->inflight -= data.size();
}

void EventPump::start(bool ring, uint32_t map_id, uint32_t pages, Sink sink)
{
	ring_ = ring;
	if (ring) {
		map_fd_.reset(open_map_fd_checked(map_id, BPF_MAP_TYPE_RINGBUF, "consume ring buffer"));
		ring_reader_.reset(new RingReader(map_fd_.get(), map_info_by_fd(map_fd_.get()).max_entries));
	} else {
		if (pages > kMaxPerfPagesPerCpu)
			throw BadInput("pageCount", "consume perf buffer: " + std::to_string(pages) +
							    " pages per CPU is over the limit of " +
							    std::to_string(kMaxPerfPagesPerCpu),
				       E2BIG);
		map_fd_.reset(open_map_fd_checked(map_id, BPF_MAP_TYPE_PERF_EVENT_ARRAY, "consume perf buffer"));
		pb_ = perf_buffer__new(map_fd_.get(), pages, &EventPump::on_perf_sample,
				       &EventPump::on_perf_lost, this, nullptr);
		if (!pb_)
			fail(errno, "consume perf buffer: map " + std::to_string(map_id));
	}
	shared_ = std::make_shared<PumpShared>();
	sink_ = std::move(sink);
	running_ = true;
	thread_ = std::thread([this] { poll_loop(); });
}

void EventPump::stop()
{
	if (!running_)
		return;
	running_ = false;
	stop_ = true;
	if (thread_.joinable())
		thread_.join();
	ring_reader_.reset();
	if (pb_)
		perf_buffer__free(pb_);
	pb_ = nullptr;
	map_fd_.reset();
	shared_->closed = true;
}

void EventPump::on_perf_sample(void *ctx, int cpu, void *data, uint32_t size)
{
	static_cast<EventPump *>(ctx)->append(data, size);
}

void EventPump::on_perf_lost(void *ctx, int cpu, unsigned long long cnt)
{
	static_cast<EventPump *>(ctx)->lost_ += cnt;
}

// Poll thread only from here on.
void EventPump::append(const void *data, size_t size)
{
	size_t rec = (4 + size + 7) & ~size_t(7);
	if (shared_->inflight.load() + cur_.size() + rec > kMaxPendingBytes || size > UINT32_MAX) {
		dropped_++;
		return;
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
}

void EventPump::flush()
{
	uint64_t resyncs = ring_reader_ ? ring_reader_->resyncs() - resyncs_seen_ : 0;
	if (!count_ && !lost_ && !dropped_ && !resyncs)
		return;
	resyncs_seen_ += resyncs;
	std::unique_ptr<EventBatch> b(new EventBatch());
	b->data.swap(cur_);
	b->count = count_;
	b->lost = lost_;
	b->dropped = dropped_;
	b->resyncs = resyncs;
	count_ = 0;
	lost_ = 0;
	dropped_ = 0;
	shared_->inflight += b->data.size();
	b->shared = shared_;
	sink_(std::move(b));
	cur_.reserve(64 << 10);
}

void EventPump::poll_loop()
{
	while (!stop_) {
		int timeout = 100;
		if (count_ || lost_ || dropped_) {
			auto age = std::chrono::steady_clock::now() - batch_start_;
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kFlushInterval - age);
			timeout = std::max<int>(0, left.count());
		}
		int n = 0;
		if (ring_) {
			n = ring_reader_->wait(timeout);
			if (n >= 0)
				ring_reader_->consume([this](const void *data, size_t size) { append(data, size); });
			// A record reserved but not committed yet: look again shortly, not in a busy loop.
			if (n >= 0 && ring_reader_->stalled())
				std::this_thread::sleep_for(std::chrono::milliseconds(1));
		} else {
			n = perf_buffer__poll(pb_, timeout);
		}
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "ebpf-studio: %s poll failed: %s\n", ring_ ? "ring buffer" : "perf buffer",
				strerror(-n));
			break;
		}
		if (lost_ && !count_ && cur_.empty())
			batch_start_ = std::chrono::steady_clock::now() - kFlushInterval;
		bool resynced = ring_reader_ && ring_reader_->resyncs() != resyncs_seen_;
		if ((count_ || lost_ || dropped_ || resynced) &&
		    std::chrono::steady_clock::now() - batch_start_ >= kFlushInterval)
			flush();
	}
}

} // namespace core

// Core layer: EventPump, the poll thread and batching behind the ring and perf buffer consumers.
#include "events.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/bpf.h>
#include <pthread.h>

#include "limits.h"
#include "listing.h"
#include "maps.h"

namespace core {
namespace {

// Batches in flight between the thread and JavaScript are few: the thread-safe function's queue is
// drained every turn of the event loop.
constexpr size_t kPoolBuffers = 4;
constexpr auto kFlushInterval = std::chrono::milliseconds(10);
// Returned by the ring buffer callback to stop draining (the record in hand is kept).
constexpr int kOutOfCredit = -ENOBUFS;

} // namespace

void PumpShared::release(int64_t bytes)
{
	credit += bytes;
	std::lock_guard<std::mutex> lock(mu);
	cv.notify_all();
}

void PumpShared::recycle(std::vector<uint8_t> &&buffer)
{
	// Only buffers of the usual size are kept: one grown for a huge record goes back to the allocator.
	if (buffer.capacity() < kBatchCapacity || buffer.capacity() > 2 * kBatchCapacity)
		return;
	std::lock_guard<std::mutex> lock(pool_mu_);
	if (pool_.size() < kPoolBuffers)
		pool_.push_back(std::move(buffer));
}

std::vector<uint8_t> PumpShared::take()
{
	std::lock_guard<std::mutex> lock(pool_mu_);
	if (pool_.empty())
		return {};
	std::vector<uint8_t> b = std::move(pool_.back());
	pool_.pop_back();
	b.clear();
	return b;
}

EventBatch::~EventBatch()
{
	if (!shared)
		return;
	// A batch that never reached its reader (queue refused, pump closed) gives its credit back here.
	if (!(delivered && shared->manual_release))
		shared->release((int64_t)data.size());
	shared->recycle(std::move(data));
}

void EventPump::start(bool ring, uint32_t map_id, uint32_t pages, Sink sink, int64_t window_bytes,
		      bool manual_release)
{
	ring_ = ring;
	shared_ = std::make_shared<PumpShared>();
	shared_->credit = window_bytes;
	shared_->manual_release = manual_release;
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
	// The thread waits on the buffer and on this, so stop() wakes it at once instead of after its poll
	// timeout (the caller, the helper's JavaScript thread, waits for the join).
	try {
		wake_.open(ring ? "consume ring buffer" : "consume perf buffer");
	} catch (...) {
		ring_reader_.reset();
		if (pb_)
			perf_buffer__free(pb_);
		pb_ = nullptr;
		throw;
	}
	sink_ = std::move(sink);
	cur_.reserve(kBatchCapacity);
	running_ = true;
	thread_ = std::thread([this] { poll_loop(); });
}

void EventPump::stop()
{
	if (!running_)
		return;
	running_ = false;
	stop_ = true;
	wake_.raise();
	{
		std::lock_guard<std::mutex> lock(shared_->mu);
		shared_->cv.notify_all();
	}
	if (thread_.joinable())
		thread_.join();
	ring_reader_.reset();
	if (pb_)
		perf_buffer__free(pb_);
	pb_ = nullptr;
	map_fd_.reset();
	wake_.close();
	shared_->closed = true;
}

void EventPump::release(int64_t bytes)
{
	if (shared_)
		shared_->release(bytes);
}

void EventPump::on_perf_sample(void *ctx, int cpu, void *data, uint32_t size)
{
	static_cast<EventPump *>(ctx)->append(data, size);
}

void EventPump::on_perf_lost(void *ctx, int cpu, unsigned long long cnt)
{
	static_cast<EventPump *>(ctx)->lost_ += cnt;
}

bool EventPump::has_credit() const
{
	return shared_->credit.load() - (int64_t)cur_.size() > 0;
}

// Poll thread only from here on. Returns false once the window is used up.
bool EventPump::append(const void *data, size_t size)
{
	size_t rec = (4 + size + 7) & ~size_t(7);
	if (size > UINT32_MAX) {
		dropped_++;
		return has_credit();
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
	return has_credit();
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
	shared_->credit -= (int64_t)b->data.size();
	b->shared = shared_;
	sink_(std::move(b));
	cur_ = shared_->take();
	cur_.reserve(kBatchCapacity);
}

void EventPump::poll_loop()
{
	// Named for profilers and top -H: "ebpf-ringbuf" / "ebpf-perfbuf" (at most 15 characters).
	pthread_setname_np(pthread_self(), ring_ ? "ebpf-ringbuf" : "ebpf-perfbuf");
	while (!stop_) {
		if (!has_credit()) {
			// Hand over what is packed, then wait for the reader to release; the kernel keeps the rest.
			flush();
			std::unique_lock<std::mutex> lock(shared_->mu);
			shared_->cv.wait_for(lock, std::chrono::milliseconds(50),
					     [this] { return stop_.load() || has_credit(); });
			continue;
		}
		int timeout = 100;
		if (count_ || lost_ || dropped_) {
			auto age = std::chrono::steady_clock::now() - batch_start_;
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kFlushInterval - age);
			timeout = std::max<int>(0, left.count());
		}
		int n = 0;
		if (ring_) {
			// Consume what is there before waiting: records left behind while out of credit raise no
			// new wakeup (the kernel notifies only a consumer that has caught up).
			ring_reader_->consume([this](const void *data, size_t size) { return append(data, size); });
			if (has_credit() && !ring_reader_->stalled()) {
				n = wake_.wait(ring_ ? map_fd_.get() : perf_buffer__epoll_fd(pb_), timeout);
				if (n >= 0)
					ring_reader_->consume(
						[this](const void *data, size_t size) { return append(data, size); });
			}
			// A record reserved but not committed yet: look again shortly, not in a busy loop.
			if (n >= 0 && ring_reader_->stalled())
				std::this_thread::sleep_for(std::chrono::milliseconds(1));
		} else {
			// Same for perf buffers: drain first, then wait.
			n = perf_buffer__consume(pb_);
			if (n == 0 || n == -EINTR) {
				n = wake_.wait(ring_ ? map_fd_.get() : perf_buffer__epoll_fd(pb_), timeout);
				if (n >= 0 && !stop_)
					n = perf_buffer__consume(pb_);
			}
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

// Core layer: RingReader, the ring buffer layout as the kernel documents it
// (Documentation/bpf/ringbuf.rst): a consumer page, a producer page, then the data pages mapped twice
// in a row so a record that wraps is contiguous. Each record is an 8-byte header (u32 length with busy
// and discard bits, u32 page offset) and its data, padded to 8 bytes.
#include "ring_reader.h"

#include <cerrno>
#include <chrono>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include "errors.h"

namespace core {
namespace {

constexpr uint32_t kHeaderBytes = 8; // BPF_RINGBUF_HDR_SZ
// A record stays busy between reserve and commit, within one run of a BPF program.
constexpr int64_t kMaxBusyMs = 1000;

int64_t now_ms()
{
	using namespace std::chrono;
	return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace

RingReader::RingReader(int map_fd, uint32_t max_entries)
{
	page_ = sysconf(_SC_PAGESIZE);
	size_ = max_entries;
	// The kernel makes a ring a power of two of whole pages; anything else is not a ring map.
	if (size_ < page_ || (size_ & (size_ - 1)))
		throw Error(EINVAL, "consume ring buffer: size " + std::to_string(size_) + " is not a power-of-two number of pages");
	void *c = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (c == MAP_FAILED)
		fail(errno, "consume ring buffer: map its consumer page");
	consumer_ = c;
	void *p = mmap(nullptr, page_ + 2 * size_, PROT_READ, MAP_SHARED, map_fd, page_);
	if (p == MAP_FAILED) {
		int err = errno;
		munmap(consumer_, page_);
		fail(err, "consume ring buffer: map its data pages");
	}
	producer_ = p;
	data_ = static_cast<const uint8_t *>(p) + page_;
}

RingReader::~RingReader()
{
	release();
}

void RingReader::release()
{
	if (producer_)
		munmap(producer_, page_ + 2 * size_);
	producer_ = nullptr;
	if (consumer_)
		munmap(consumer_, page_);
	consumer_ = nullptr;
}

void RingReader::resync(uint64_t prod)
{
	resyncs_++;
	busy_pos_ = UINT64_MAX;
	__atomic_store_n(static_cast<uint64_t *>(consumer_), prod, __ATOMIC_RELEASE);
}

size_t RingReader::consume(const std::function<bool(const void *, size_t)> &on_record)
{
	auto *cons_ptr = static_cast<uint64_t *>(consumer_);
	auto *prod_ptr = static_cast<const uint64_t *>(producer_);
	size_t count = 0;
	stalled_ = false;
	uint64_t cons = __atomic_load_n(cons_ptr, __ATOMIC_ACQUIRE);
	for (;;) {
		uint64_t prod = __atomic_load_n(prod_ptr, __ATOMIC_ACQUIRE);
		if (cons == prod)
			return count;
		// The kernel never lets the producer get more than the ring ahead, and records are 8-aligned.
		if (prod < cons || prod - cons > size_ || (cons & 7)) {
			resync(prod);
			cons = prod;
			continue;
		}
		while (cons < prod) {
			size_t at = cons & (size_ - 1);
			// at + 8 <= size_ since at is 8-aligned within a power-of-two ring of whole pages.
			uint32_t hdr = __atomic_load_n(reinterpret_cast<const uint32_t *>(data_ + at), __ATOMIC_ACQUIRE);
			if (hdr & BPF_RINGBUF_BUSY_BIT) {
				int64_t now = now_ms();
				if (busy_pos_ != cons) {
					busy_pos_ = cons;
					busy_since_ms_ = now;
				} else if (now - busy_since_ms_ > kMaxBusyMs) {
					resync(prod);
					cons = prod;
					break;
				}
				stalled_ = true;
				return count;
			}
			uint64_t len = hdr & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			uint64_t rec = (len + kHeaderBytes + 7) & ~uint64_t(7);
			// A committed record lies wholly below the producer position. With rec <= prod - cons <=
			// size_, [at, at + rec) stays within the doubled data mapping (2 * size_ bytes).
			if (rec > prod - cons) {
				resync(prod);
				cons = prod;
				break;
			}
			bool more = true;
			if (!(hdr & BPF_RINGBUF_DISCARD_BIT)) {
				more = on_record(data_ + at + kHeaderBytes, len);
				count++;
			}
			cons += rec;
			__atomic_store_n(cons_ptr, cons, __ATOMIC_RELEASE);
			if (!more)
				return count;
		}
	}
}

} // namespace core

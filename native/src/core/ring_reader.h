// Core layer: a BPF ring buffer (kernel 5.8) consumer that never reads outside its mapping, whatever
// the producer and consumer positions or record headers say. The consumer position lives in a page
// any holder of the map fd can write, and a record header read at a wrong position is whatever bytes a
// BPF program wrote there; libbpf's consumer trusts both and can read far past its mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace core {

class RingReader {
public:
	// Maps the ring of map_fd (a BPF_MAP_TYPE_RINGBUF of max_entries bytes); throws core::Error. Waiting
	// for data (epoll on map_fd) is the owner's.
	RingReader(int map_fd, uint32_t max_entries);
	~RingReader();
	RingReader(const RingReader &) = delete;
	RingReader &operator=(const RingReader &) = delete;

	// Hands each committed record to on_record and advances the consumer position past it; stops after
	// a record for which on_record returns false (out of credit: the rest stays in the kernel's ring).
	// Returns the records consumed. Positions or lengths that cannot be right (the consumer ahead of the producer
	// or more than the ring behind, misaligned, a record running past the producer, a header busy for
	// over a second) make the reader skip to the producer's position: counted in resyncs().
	size_t consume(const std::function<bool(const void *, size_t)> &on_record);
	uint64_t resyncs() const { return resyncs_; }
	// True when the last consume() stopped at a record not yet committed.
	bool stalled() const { return stalled_; }

private:
	void resync(uint64_t prod);
	void release();

	size_t page_ = 0, size_ = 0;
	void *consumer_ = nullptr; // consumer position page (read-write)
	void *producer_ = nullptr; // producer position page, then the data twice (read-only)
	const uint8_t *data_ = nullptr;
	uint64_t resyncs_ = 0;
	bool stalled_ = false;
	uint64_t busy_pos_ = UINT64_MAX;
	int64_t busy_since_ms_ = 0;
};

} // namespace core

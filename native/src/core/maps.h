// Core layer: an open map by id or pin (MapHandle): lookups, updates, deletes, key walks, batch pages
// and the map's BTF key/value types.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "btf.h"
#include "errors.h"
#include "listing.h"

namespace core {

struct BatchRead {
	std::vector<uint8_t> keys, values;
	uint32_t count = 0;
	bool has_next = false;
	std::vector<uint8_t> next;
};

class MapHandle {
public:
	static std::unique_ptr<MapHandle> open_id(uint32_t id);
	static std::unique_ptr<MapHandle> open_pinned(const std::string &path);
	~MapHandle() { close(); }

	const MapInfo &info() const { return info_; }
	uint32_t user_value_size() const { return user_value_size_; }
	bool closed() const { return !fd_; }
	bool lookup(const uint8_t *key, std::vector<uint8_t> &value);
	void update(const uint8_t *key, const uint8_t *value, uint64_t flags);
	bool remove(const uint8_t *key);
	bool next_key(const uint8_t *key, std::vector<uint8_t> &next);
	// Pages hold at most max_count entries, fewer when they would exceed kMaxPageBytes (limits.h) or
	// the map's max_entries; has_next says whether more follow.
	BatchRead lookup_batch(uint32_t max_count, const std::vector<uint8_t> *cursor);
	// One page of bpf_map_lookup_batch (kernel 5.6) without the key-walk fallback: 0 with r filled, or
	// the errno of the failed call (EINVAL, ENOTSUPP, EOPNOTSUPP: this map type has no batch ops).
	int lookup_batch_page(uint32_t max_count, const std::vector<uint8_t> *cursor, BatchRead &r);
	// Resolved key/value types; has_* false when the map has no BTF for them.
	void btf_types(bool &has_key, BtfNode &key, bool &has_value, BtfNode &value);
	void close() { fd_.reset(); }

private:
	explicit MapHandle(int fd);
	void check_open() const;
	uint32_t page_entries(uint32_t max_count, size_t page_bytes) const;
	BatchRead lookup_batch_fallback(uint32_t max_count, const std::vector<uint8_t> *cursor);
	Fd fd_;
	MapInfo info_;
	uint32_t user_value_size_ = 0;
	bool batch_unsupported_ = false;
};

// Opens a map fd by id, checking its type; throws with a clear message.
int open_map_fd_checked(uint32_t id, unsigned want_type, const char *what);

} // namespace core

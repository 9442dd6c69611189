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
	// One page by walking keys (get-next-key + lookup), for kernels or map types without batch ops; the
	// cursor is the last key returned. Bounded like lookup_batch.
	BatchRead walk_keys_page(uint32_t max_count, const std::vector<uint8_t> *cursor);
	// Resolved key/value types; has_* false when the map has no BTF for them.
	void btf_types(bool &has_key, BtfNode &key, bool &has_value, BtfNode &value);
	void close() { fd_.reset(); }

private:
	explicit MapHandle(int fd);
	void check_open() const;
	uint32_t page_entries(uint32_t max_count, size_t page_bytes) const;
	Fd fd_;
	MapInfo info_;
	uint32_t user_value_size_ = 0;
	bool batch_unsupported_ = false;
};

// One page of a map dump by id, from a handle opened for this read (no fd is kept between pages). The
// one place that decides between batch lookups (kernel 5.6; hash and array types) and walking keys
// (every other listable type, and older kernels): the first page tries a batch and walks when the
// kernel says the type has none. The cursor (null: first page) says which way a dump goes: its first
// byte is the mode, then the kernel's batch token or the last key read; the returned cursor carries it.
BatchRead read_dump_page(uint32_t map_id, uint32_t max_count, const std::vector<uint8_t> *cursor);

// Writes an entry of a map whose values are fds when written and ids when read (prog_array, array/hash
// of maps): the object (a program when is_program, else a map) is opened by kernel id for the write and
// closed again, so a value never means "whatever the caller holds under that fd number".
void update_map_with_object(uint32_t map_id, const uint8_t *key, size_t key_len, bool is_program, uint32_t object_id,
			    uint64_t flags);

// Opens a map fd by id, checking its type; throws with a clear message.
int open_map_fd_checked(uint32_t id, unsigned want_type, const char *what);

} // namespace core

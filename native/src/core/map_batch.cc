// Core layer: whole-map reads in pages: batch lookups (kernel 5.6), and a key walk for kernels or map
// types without batch ops; read_dump_page, the helper's map dump by id, page by page. A page is bounded in
// bytes (kMaxPageBytes) as well as in entries, so a per-CPU map of big values on many CPUs never makes a
// huge page.
#include "maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>

#include "limits.h"
#include "names.h"

namespace core {

static bool undumpable(unsigned t)
{
	return t == BPF_MAP_TYPE_RINGBUF || t == BPF_MAP_TYPE_USER_RINGBUF ||
	       t == BPF_MAP_TYPE_PERF_EVENT_ARRAY || t == BPF_MAP_TYPE_QUEUE ||
	       t == BPF_MAP_TYPE_STACK || t == BPF_MAP_TYPE_BLOOM_FILTER ||
	       t == BPF_MAP_TYPE_STRUCT_OPS || t == 33 /* arena */;
}

BatchRead MapHandle::lookup_batch(uint32_t max_count, const std::vector<uint8_t> *cursor)
{
	check_open();
	if (undumpable(info_.type_num))
		throw Error(EOPNOTSUPP, "map type " + info_.type + " cannot be dumped");
	if (batch_unsupported_)
		return walk_keys_page(max_count, cursor);
	if (max_count == 0)
		max_count = 1;
	BatchRead r;
	int err = lookup_batch_page(max_count, cursor, r);
	if (err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP) {
		if (cursor)
			fail(err, "batch lookup in map " + info_.name);
		batch_unsupported_ = true;
		return walk_keys_page(max_count, nullptr);
	}
	if (err)
		fail(err, "batch lookup in map " + info_.name);
	return r;
}

// Entries per page: max_count, but no more than the map can hold and no more than kMaxPageBytes of
// keys and values (a single entry larger than that is still read alone).
uint32_t MapHandle::page_entries(uint32_t max_count, size_t page_bytes) const
{
	size_t entry = std::max<size_t>(1, (size_t)info_.key_size + user_value_size_);
	uint64_t want = std::max<uint32_t>(1, max_count);
	if (info_.max_entries)
		want = std::min<uint64_t>(want, info_.max_entries);
	want = std::min<uint64_t>(want, std::max<size_t>(1, page_bytes / entry));
	return (uint32_t)want;
}

int MapHandle::lookup_batch_page(uint32_t max_count, const std::vector<uint8_t> *cursor, BatchRead &r)
{
	check_open();
	// Hash maps use a u32 bucket cursor, arrays a key: room for either.
	size_t tok = std::max<size_t>(info_.key_size, 8);
	std::vector<uint8_t> in(tok, 0), out(tok, 0);
	if (cursor)
		memcpy(in.data(), cursor->data(), std::min(tok, cursor->size()));
	uint32_t want = page_entries(max_count, kMaxPageBytes);
	for (;;) {
		r.keys.assign((size_t)want * info_.key_size, 0);
		r.values.assign((size_t)want * user_value_size_, 0);
		uint32_t count = want;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int err = bpf_map_lookup_batch(fd_.get(), cursor ? in.data() : nullptr, out.data(),
					       r.keys.data(), r.values.data(), &count, &opts);
		err = err ? errno : 0;
		if (err == ENOSPC && count == 0) {
			// One hash bucket holds more than `want` entries: the page grows to take the whole
			// bucket, within kMaxBucketPageBytes.
			uint32_t most = page_entries(UINT32_MAX, kMaxBucketPageBytes);
			if (want < most) {
				want = std::min<uint64_t>((uint64_t)want * 2, most);
				continue;
			}
			throw Error(E2BIG, "batch lookup in map " + info_.name + ": one hash bucket holds more than " +
						   std::to_string(want) + " entries of " +
						   byte_size((uint64_t)info_.key_size + user_value_size_) + ", over the " +
						   byte_size(kMaxBucketPageBytes) + " page limit");
		}
		if (err && err != ENOENT)
			return err;
		r.count = count;
		r.keys.resize((size_t)count * info_.key_size);
		r.values.resize((size_t)count * user_value_size_);
		r.has_next = err != ENOENT;
		if (r.has_next)
			r.next = out;
		return 0;
	}
}

// Kernels or map types without batch ops: walk keys; the cursor is the last key returned.
BatchRead MapHandle::walk_keys_page(uint32_t max_count, const std::vector<uint8_t> *cursor)
{
	BatchRead r;
	std::vector<uint8_t> key, value;
	std::vector<uint8_t> prev;
	if (cursor)
		prev = *cursor;
	if (cursor && prev.size() != info_.key_size)
		throw Error(EINVAL, "cursor does not belong to map " + info_.name);
	uint32_t most = page_entries(max_count, kMaxPageBytes);
	for (;;) {
		if (r.count >= most) {
			r.has_next = true;
			r.next = prev;
			return r;
		}
		key.assign(info_.key_size, 0);
		if (bpf_map_get_next_key(fd_.get(), prev.empty() && !cursor ? nullptr : prev.data(),
					 key.data())) {
			if (errno == ENOENT)
				return r;
			fail(errno, "iterate map " + info_.name);
		}
		prev = key;
		cursor = &prev;
		value.assign(user_value_size_, 0);
		if (bpf_map_lookup_elem(fd_.get(), key.data(), value.data())) {
			if (errno == ENOENT)
				continue; // deleted meanwhile
			if (errno == EOPNOTSUPP || errno == ENOTSUPP)
				throw Error(EOPNOTSUPP, "map type " + info_.type + " cannot be dumped");
			fail(errno, "lookup in map " + info_.name);
		}
		r.keys.insert(r.keys.end(), key.begin(), key.end());
		r.values.insert(r.values.end(), value.begin(), value.end());
		r.count++;
	}
}

// The first byte of a dump cursor: which reading the next page continues.
constexpr uint8_t kBatch = 1, kWalk = 2;

BatchRead read_dump_page(uint32_t map_id, uint32_t max_count, const std::vector<uint8_t> *cursor)
{
	std::unique_ptr<MapHandle> map = MapHandle::open_id(map_id);
	BatchRead r;
	uint8_t mode = kBatch;
	std::vector<uint8_t> inner;
	if (cursor) {
		if (cursor->empty() || ((*cursor)[0] != kBatch && (*cursor)[0] != kWalk))
			throw Error(EINVAL, "cursor does not belong to a map dump");
		mode = (*cursor)[0];
		inner.assign(cursor->begin() + 1, cursor->end());
	}
	if (mode == kBatch) {
		int err = map->lookup_batch_page(max_count, cursor ? &inner : nullptr, r);
		if ((err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP) && !cursor) {
			mode = kWalk;
			r = map->walk_keys_page(max_count, nullptr);
		} else if (err) {
			fail(err, "batch lookup in map " + map->info().name);
		}
	} else {
		r = map->walk_keys_page(max_count, &inner);
	}
	if (r.has_next)
		r.next.insert(r.next.begin(), mode);
	return r;
}

} // namespace core

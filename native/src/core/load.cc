// Core layer: load_object(): open, apply the options, load, and retry with a larger or more detailed
// verifier log for the program that failed.
#include "load.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>

#include "core_btf.h"
#include "libbpf_log.h"
#include "limits.h"
#include "listing.h"
#include "names.h"
#include "object_file.h"

namespace core {
namespace {

// Which program made the load fail. libbpf loads programs in order and names the culprit as
// "prog 'NAME': ..."; a map failure ("map 'NAME': ...") is nobody's program.
std::string failing_program(struct bpf_object *obj, const std::string &log)
{
	std::map<std::string, bool> candidates;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		if (bpf_program__autoload(p) && bpf_program__fd(p) < 0)
			candidates[str_or_empty(bpf_program__name(p))] = true;
	}
	size_t pos = 0;
	while ((pos = log.find("prog '", pos)) != std::string::npos) {
		pos += 6;
		size_t end = log.find('\'', pos);
		if (end == std::string::npos)
			break;
		std::string name = log.substr(pos, end - pos);
		if (candidates.count(name))
			return name;
	}
	if (log.find("map '") != std::string::npos)
		return "";
	bpf_object__for_each_program(p, obj) {
		if (bpf_program__autoload(p) && bpf_program__fd(p) < 0)
			return str_or_empty(bpf_program__name(p));
	}
	return "";
}

struct Attempt {
	ObjPtr obj;
	int err = 0;
	std::string setup_error; // option errors, found before the kernel is asked
	std::string log;
	std::map<std::string, std::vector<char>> bufs;
};

// What a max_entries override would make the kernel preallocate, refused past
// kMaxOverridePreallocBytes: hash and array maps hold max_entries x (key + value), per-CPU values once
// per possible CPU; a ring buffer's max_entries is its size in bytes.
void check_prealloc(struct bpf_map *m, const std::string &name, uint32_t entries)
{
	unsigned type = bpf_map__type(m);
	uint64_t key = bpf_map__key_size(m), value = bpf_map__value_size(m);
	if (map_type_is_percpu(type)) {
		int cpus = libbpf_num_possible_cpus();
		value = (value + 7) / 8 * 8 * (uint64_t)(cpus > 0 ? cpus : 1);
	}
	bool ring = type == BPF_MAP_TYPE_RINGBUF || type == BPF_MAP_TYPE_USER_RINGBUF;
	uint64_t bytes = ring ? entries : entries * (key + value);
	if (bytes <= kMaxOverridePreallocBytes)
		return;
	throw BadInput("maxEntries." + name,
		       "maxEntries." + name + ": " + std::to_string(entries) +
			       (ring ? " bytes of ring buffer" : " entries of " + std::to_string(key + value) + " bytes") + " would preallocate " +
			       byte_size(bytes) + ", over the " + byte_size(kMaxOverridePreallocBytes) + " limit for max_entries overrides",
		       E2BIG);
}

void apply_options(struct bpf_object *obj, const LoadOptions &o)
{
	if (o.has_programs) {
		for (const std::string &name : o.programs) {
			if (!bpf_object__find_program_by_name(obj, name.c_str()))
				throw BadInput("programs", "no program named " + name + " in " + o.path, ENOENT);
		}
		struct bpf_program *p;
		bpf_object__for_each_program(p, obj) {
			bool want = false;
			for (const std::string &name : o.programs)
				want = want || name == str_or_empty(bpf_program__name(p));
			bpf_program__set_autoload(p, want);
		}
	}
	if (!o.variables.empty()) {
		std::vector<VarRef> vars = data_vars(obj);
		for (const auto &kv : o.variables) {
			const VarRef *v = nullptr;
			for (const VarRef &cand : vars)
				if (cand.name == kv.first)
					v = &cand;
			if (!v)
				throw BadInput("variables." + kv.first, "no global variable named " + kv.first + " in " + o.path, ENOENT);
			if (kv.second.size() != v->size)
				throw BadInput("variables." + kv.first, "variable " + kv.first + " is " + std::to_string(v->size) +
										    " bytes, got " + std::to_string(kv.second.size()));
			size_t sz = 0;
			void *data = v->map ? const_cast<void *>(bpf_map__initial_value(v->map, &sz)) : nullptr;
			if (!data || (size_t)v->offset + v->size > sz)
				throw BadInput("variables." + kv.first, "variable " + kv.first + " in " + v->section +
										    " cannot be set before load");
			memcpy((uint8_t *)data + v->offset, kv.second.data(), v->size);
		}
	}
	for (const auto &kv : o.max_entries) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, kv.first.c_str());
		if (!m)
			throw BadInput("maxEntries." + kv.first, "no map named " + kv.first + " in " + o.path, ENOENT);
		check_prealloc(m, kv.first, kv.second);
		int err = bpf_map__set_max_entries(m, kv.second);
		if (err)
			fail(-err, "set max_entries of map " + kv.first);
	}
}

} // namespace

LoadResult load_object(const LoadOptions &opts)
{
	LoadResult res;
	std::map<std::string, uint32_t> level_of;
	std::map<std::string, size_t> size_of;
	bool raised_level = false;
	CoreBtf core_btf;
	if (opts.minimal_core_btf)
		CoreBtf::build(opts.path, core_btf);

	for (int round = 0; round < 24; round++) {
		Attempt a;
		{
			Capture cap(a.log);
			try {
				a.obj = open_object(opts.path, a.log, core_btf.path());
				apply_options(a.obj.get(), opts);
			} catch (const BadInput &e) {
				res.err = e.err();
				res.message = e.what();
				res.bad_input_field = e.field();
				res.libbpf_log = a.log;
				return res;
			} catch (const Error &e) {
				res.err = e.err();
				res.message = e.what();
				res.libbpf_log = a.log;
				return res;
			}
			struct bpf_program *p;
			bpf_object__for_each_program(p, a.obj.get()) {
				if (!bpf_program__autoload(p))
					continue;
				std::string name = str_or_empty(bpf_program__name(p));
				size_t size = size_of.count(name) ? size_of[name] : opts.log_size;
				uint32_t level = level_of.count(name) ? level_of[name] : opts.log_level;
				std::vector<char> &buf = a.bufs[name];
				buf.assign(size, 0);
				bpf_program__set_log_buf(p, buf.data(), buf.size());
				bpf_program__set_log_level(p, level);
			}
			int ret = bpf_object__load(a.obj.get());
			a.err = ret < 0 ? -ret : 0;
		}

		std::string failing;
		bool log_cut = false;
		if (a.err) {
			failing = failing_program(a.obj.get(), a.log);
			if (!failing.empty()) {
				size_t size = size_of.count(failing) ? size_of[failing] : opts.log_size;
				uint32_t level = level_of.count(failing) ? level_of[failing] : opts.log_level;
				// The kernel truncated the log (ENOSPC): retry with room for all of it, up to
				// kMaxVerifierLogBytes (a JS string must hold it).
				if (a.err == ENOSPC && (level & 3)) {
					if (size < kMaxVerifierLogBytes) {
						size_of[failing] = std::min(size * 4, kMaxVerifierLogBytes);
						continue;
					}
					log_cut = true;
				}
				// Stats alone do not explain a rejection; ask for the level 1 log.
				if (!(level & 1) && !raised_level) {
					raised_level = true;
					level_of[failing] = level | 1 | 4;
					continue;
				}
			}
		}

		res.libbpf_log = a.log;
		struct bpf_program *p;
		bpf_object__for_each_program(p, a.obj.get()) {
			ProgramReport r;
			r.name = str_or_empty(bpf_program__name(p));
			r.section = str_or_empty(bpf_program__section_name(p));
			r.type = prog_type_name(bpf_program__type(p));
			int fd = bpf_program__fd(p);
			r.loaded = !a.err && fd >= 0;
			r.id = r.loaded ? prog_id_of(fd) : 0;
			auto it = a.bufs.find(r.name);
			if (it != a.bufs.end())
				r.log.assign(it->second.data(), strnlen(it->second.data(), it->second.size()));
			res.programs.push_back(std::move(r));
		}
		if (a.err) {
			res.err = a.err >= __LIBBPF_ERRNO__START ? EINVAL : a.err;
			res.program = failing;
			res.message = "load " + opts.path + (failing.empty() ? "" : ": program " + failing) +
				      (log_cut ? ": its verifier log is longer than the " + byte_size(kMaxVerifierLogBytes) +
							 " limit and is cut there"
					       : "") +
				      ": " + errno_text(a.err);
			return res;
		}
		res.ok = true;
		std::string name = str_or_empty(bpf_object__name(a.obj.get()));
		res.object.reset(new Object(a.obj.release(), name));
		return res;
	}
	res.err = EAGAIN;
	res.message = "load " + opts.path + ": gave up after repeated retries";
	return res;
}

} // namespace core

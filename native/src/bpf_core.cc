// Plain C++ over libbpf (see bpf_core.h). No napi.h: the binding marshals these structs.
#include "bpf_core.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

// Newer than the installed uapi headers (6.1): define what we use from later kernels.
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif
#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif
#ifndef ENOTSUPP
#define ENOTSUPP 524 // kernel-internal, leaks out of some bpf() paths
#endif

namespace core {

// ---- errors ------------------------------------------------------------------------------

std::string errno_text(int err)
{
	if (err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END) {
		char buf[128];
		libbpf_strerror(err, buf, sizeof(buf));
		return buf;
	}
	if (err == ENOTSUPP)
		return "Operation not supported";
	return strerror(err);
}

std::string errno_name(int err)
{
	if (err == ENOTSUPP)
		return "ENOTSUPP";
	const char *n = strerrorname_np(err);
	return n ? n : "";
}

void fail(int err, const std::string &what)
{
	if (err <= 0)
		err = EINVAL;
	std::string text = errno_text(err);
	// libbpf's private codes mean nothing to callers; EINVAL with libbpf's words does.
	if (err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END)
		err = EINVAL;
	throw Error(err, what + ": " + text);
}

Fd &Fd::operator=(Fd &&o) noexcept
{
	if (this != &o)
		reset(o.release());
	return *this;
}

int Fd::release()
{
	int fd = fd_;
	fd_ = -1;
	return fd;
}

void Fd::reset(int fd)
{
	if (fd_ >= 0)
		::close(fd_);
	fd_ = fd;
}

// ---- libbpf log capture ------------------------------------------------------------------
// libbpf prints on the calling thread, so a per-thread sink keeps concurrent loads (each on
// its own worker thread) from mixing their messages. Output with no sink goes to stderr as
// libbpf would, minus debug chatter.
namespace {

thread_local std::string *tl_sink;
std::once_flag print_once;

int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char small[512];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	std::string msg;
	if (n < 0)
		return 0;
	if ((size_t)n < sizeof(small)) {
		msg.assign(small, n);
	} else {
		msg.resize(n + 1);
		vsnprintf(&msg[0], n + 1, fmt, ap);
		msg.resize(n);
	}
	if (tl_sink)
		tl_sink->append(msg);
	else if (level == LIBBPF_WARN)
		fputs(msg.c_str(), stderr);
	return 0;
}

class Capture {
public:
	explicit Capture(std::string &sink) : prev_(tl_sink)
	{
		std::call_once(print_once, [] { libbpf_set_print(print_fn); });
		tl_sink = &sink;
	}
	~Capture() { tl_sink = prev_; }

private:
	std::string *prev_;
};

struct ObjCloser {
	void operator()(struct bpf_object *o) const { bpf_object__close(o); }
};
using ObjPtr = std::unique_ptr<struct bpf_object, ObjCloser>;

struct BtfFree {
	void operator()(struct btf *b) const { btf__free(b); }
};

} // namespace

// ---- names -------------------------------------------------------------------------------

std::string prog_type_name(unsigned t)
{
	if (const char *s = libbpf_bpf_prog_type_str((enum bpf_prog_type)t))
		return s;
	static const std::map<unsigned, const char *> newer = {{32, "netfilter"}};
	auto it = newer.find(t);
	return it != newer.end() ? it->second : "unknown_" + std::to_string(t);
}

std::string map_type_name(unsigned t)
{
	if (const char *s = libbpf_bpf_map_type_str((enum bpf_map_type)t))
		return s;
	static const std::map<unsigned, const char *> newer = {{32, "cgrp_storage"}, {33, "arena"}};
	auto it = newer.find(t);
	return it != newer.end() ? it->second : "unknown_" + std::to_string(t);
}

std::string attach_type_name(unsigned t)
{
	if (const char *s = libbpf_bpf_attach_type_str((enum bpf_attach_type)t))
		return s;
	static const std::map<unsigned, const char *> newer = {
		{42, "trace_kprobe_multi"}, {43, "lsm_cgroup"}, {44, "struct_ops"},
		{45, "netfilter"}, {46, "tcx_ingress"}, {47, "tcx_egress"},
		{48, "trace_uprobe_multi"}, {49, "cgroup_unix_connect"}, {50, "cgroup_unix_sendmsg"},
		{51, "cgroup_unix_recvmsg"}, {52, "cgroup_unix_getpeername"},
		{53, "cgroup_unix_getsockname"}, {54, "netkit_primary"}, {55, "netkit_peer"},
		{56, "trace_kprobe_session"}, {57, "trace_uprobe_session"}};
	auto it = newer.find(t);
	return it != newer.end() ? it->second : "unknown_" + std::to_string(t);
}

std::string link_type_name(unsigned t)
{
	if (const char *s = libbpf_bpf_link_type_str((enum bpf_link_type)t))
		return s;
	static const std::map<unsigned, const char *> newer = {
		{10, "netfilter"}, {11, "tcx"}, {12, "uprobe_multi"}, {13, "netkit"}, {14, "sockmap"}};
	auto it = newer.find(t);
	return it != newer.end() ? it->second : "unknown_" + std::to_string(t);
}

bool map_type_is_percpu(unsigned t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

std::string libbpf_version()
{
	return std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version());
}

// ---- object files ------------------------------------------------------------------------
namespace {

// libbpf's own message for a non-BPF file is "BPF object format invalid"; say what is wrong.
void check_bpf_elf(const std::string &path)
{
	Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		fail(errno, "open object file " + path);
	unsigned char h[64] = {};
	ssize_t n = pread(fd.get(), h, sizeof(h), 0);
	if (n < 0)
		fail(errno, "read object file " + path);
	if (n < 20 || memcmp(h, "\x7f" "ELF", 4) != 0)
		throw Error(ENOEXEC, "not a BPF object file: " + path + ": not an ELF file");
	unsigned machine = h[5] == 2 ? (h[18] << 8 | h[19]) : (h[19] << 8 | h[18]);
	if (machine != 247 /* EM_BPF */)
		throw Error(ENOEXEC, "not a BPF object file: " + path + ": ELF machine is " +
					     std::to_string(machine) + ", expected 247 (EM_BPF); " +
					     "compile with clang -target bpf");
	unsigned type = h[5] == 2 ? (h[16] << 8 | h[17]) : (h[17] << 8 | h[16]);
	if (type != 1 /* ET_REL */)
		throw Error(ENOEXEC, "not a BPF object file: " + path +
					     ": not a relocatable object (ELF type " + std::to_string(type) + ")");
	// A cut-off copy (an interrupted download or build) otherwise fails deep in libelf with
	// "invalid `Elf' handle". BPF objects are ELF64; the section headers come last.
	if (h[4] == 2 /* ELFCLASS64 */) {
		auto field = [&](int at, int size) {
			uint64_t v = 0;
			for (int i = 0; i < size; i++)
				v |= (uint64_t)h[at + (h[5] == 2 ? size - 1 - i : i)] << (8 * i);
			return v;
		};
		struct stat st = {};
		if (fstat(fd.get(), &st) != 0)
			fail(errno, "stat object file " + path);
		uint64_t end = field(0x28, 8) + field(0x3a, 2) * field(0x3c, 2);
		if (n < (ssize_t)sizeof(h) || end > (uint64_t)st.st_size)
			throw Error(ENOEXEC, "not a BPF object file: " + path + ": truncated (" +
						     std::to_string(st.st_size) + " bytes; its section headers end at byte " +
						     std::to_string(end) + ")");
	}
}

// The last libbpf message, to explain an open failure.
std::string last_message(const std::string &log)
{
	std::string s = log;
	while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
		s.pop_back();
	size_t nl = s.rfind('\n');
	s = nl == std::string::npos ? s : s.substr(nl + 1);
	// Callers add their own "libbpf: " in front.
	return s.rfind("libbpf: ", 0) == 0 ? s.substr(8) : s;
}

ObjPtr open_object(const std::string &path, std::string &log)
{
	check_bpf_elf(path);
	struct bpf_object *obj = bpf_object__open_file(path.c_str(), nullptr);
	if (!obj) {
		int err = errno;
		std::string why = last_message(log);
		std::string text = errno_text(err);
		if (err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END)
			err = EINVAL;
		throw Error(err, "not a BPF object file: " + path + ": " + text +
					 (why.empty() ? "" : " (libbpf: " + why + ")"));
	}
	return ObjPtr(obj);
}

bool is_data_section(const std::string &s)
{
	return s == ".rodata" || s == ".data" || s == ".bss" || s.rfind(".rodata.", 0) == 0 ||
	       s.rfind(".data.", 0) == 0;
}

// The internal map libbpf made for a data section. libbpf records the DATASEC as the map's
// value type; older libbpf only sets that at load, so fall back to its naming scheme
// ("<obj prefix>.rodata", or the section name itself for custom sections).
struct bpf_map *internal_map_for(struct bpf_object *obj, const std::string &sec, uint32_t sec_id)
{
	struct bpf_map *m, *by_suffix = nullptr;
	bpf_object__for_each_map(m, obj) {
		if (!bpf_map__is_internal(m))
			continue;
		if (bpf_map__btf_value_type_id(m) == sec_id)
			return m;
		std::string n = bpf_map__name(m);
		if (n == sec)
			return m;
		if (n.size() > sec.size() && n.compare(n.size() - sec.size(), sec.size(), sec) == 0)
			by_suffix = m;
	}
	return by_suffix;
}

struct VarRef {
	std::string name, section;
	uint32_t offset, size, type_id;
	struct bpf_map *map;
};

std::vector<VarRef> data_vars(struct bpf_object *obj)
{
	std::vector<VarRef> out;
	const struct btf *btf = bpf_object__btf(obj);
	if (!btf)
		return out;
	uint32_t n = btf__type_cnt(btf);
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_datasec(t))
			continue;
		std::string sec = btf__name_by_offset(btf, t->name_off);
		if (!is_data_section(sec))
			continue;
		struct bpf_map *map = internal_map_for(obj, sec, id);
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, vs++) {
			const struct btf_type *v = btf__type_by_id(btf, vs->type);
			if (!v || !btf_is_var(v))
				continue;
			out.push_back({btf__name_by_offset(btf, v->name_off), sec, vs->offset, vs->size,
				       v->type, map});
		}
	}
	return out;
}

std::string expected_attach_name(const struct bpf_program *p)
{
	unsigned at = bpf_program__expected_attach_type(p);
	// 0 is both "none" and BPF_CGROUP_INET_INGRESS; only cgroup_skb can mean the latter.
	if (at == 0 && bpf_program__type(p) != BPF_PROG_TYPE_CGROUP_SKB)
		return "";
	return attach_type_name(at);
}

// Info is bpf_prog_info, bpf_map_info or bpf_link_info; 0 when the kernel does not answer.
template <typename Info>
uint32_t id_of(int fd)
{
	Info info;
	memset(&info, 0, sizeof(info));
	uint32_t len = sizeof(info);
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

uint32_t prog_id_of(int fd) { return id_of<struct bpf_prog_info>(fd); }
uint32_t map_id_of(int fd) { return id_of<struct bpf_map_info>(fd); }
uint32_t link_id_of(int fd) { return id_of<struct bpf_link_info>(fd); }

} // namespace

ObjectSpec describe_object(const std::string &path)
{
	std::string log;
	Capture cap(log);
	ObjPtr obj = open_object(path, log);
	ObjectSpec spec;
	spec.path = path;
	spec.name = bpf_object__name(obj.get());

	struct bpf_program *p;
	bpf_object__for_each_program(p, obj.get()) {
		ProgramSpec ps;
		ps.name = bpf_program__name(p);
		ps.section = bpf_program__section_name(p);
		ps.type = prog_type_name(bpf_program__type(p));
		ps.expected_attach_type = expected_attach_name(p);
		ps.insn_count = bpf_program__insn_cnt(p);
		ps.autoload = bpf_program__autoload(p);
		spec.programs.push_back(std::move(ps));
	}
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj.get()) {
		MapSpec ms;
		ms.name = bpf_map__name(m);
		ms.type = map_type_name(bpf_map__type(m));
		ms.key_size = bpf_map__key_size(m);
		ms.value_size = bpf_map__value_size(m);
		ms.max_entries = bpf_map__max_entries(m);
		ms.internal = bpf_map__is_internal(m);
		spec.maps.push_back(std::move(ms));
	}
	const struct btf *btf = bpf_object__btf(obj.get());
	for (const VarRef &v : data_vars(obj.get())) {
		VariableSpec vs;
		vs.name = v.name;
		vs.section = v.section;
		vs.offset = v.offset;
		vs.size = v.size;
		vs.type = btf_resolve(btf, v.type_id);
		vs.initial.assign(v.size, 0);
		size_t sz = 0;
		const void *init = v.map ? bpf_map__initial_value(v.map, &sz) : nullptr;
		if (init && (size_t)v.offset + v.size <= sz)
			memcpy(vs.initial.data(), (const uint8_t *)init + v.offset, v.size);
		spec.variables.push_back(std::move(vs));
	}
	if (btf) {
		uint32_t n = btf__type_cnt(btf);
		for (uint32_t id = 1; id < n; id++) {
			const struct btf_type *t = btf__type_by_id(btf, id);
			if (!btf_is_struct(t) || !t->name_off)
				continue;
			const char *name = btf__name_by_offset(btf, t->name_off);
			if (name && *name)
				spec.struct_names.push_back(name);
		}
	}
	return spec;
}

// ---- load --------------------------------------------------------------------------------
namespace {

constexpr size_t kMaxLogSize = size_t(1) << 30;

// Which program made the load fail. libbpf loads programs in order and names the culprit as
// "prog 'NAME': ..."; a map failure ("map 'NAME': ...") is nobody's program.
std::string failing_program(struct bpf_object *obj, const std::string &log)
{
	std::map<std::string, bool> candidates;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		if (bpf_program__autoload(p) && bpf_program__fd(p) < 0)
			candidates[bpf_program__name(p)] = true;
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
			return bpf_program__name(p);
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

void apply_options(struct bpf_object *obj, const LoadOptions &o)
{
	if (o.has_programs) {
		for (const std::string &name : o.programs) {
			if (!bpf_object__find_program_by_name(obj, name.c_str()))
				throw Error(ENOENT, "no program named " + name + " in " + o.path);
		}
		struct bpf_program *p;
		bpf_object__for_each_program(p, obj) {
			bool want = false;
			for (const std::string &name : o.programs)
				want = want || name == bpf_program__name(p);
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
				throw Error(ENOENT, "no global variable named " + kv.first + " in " + o.path);
			if (kv.second.size() != v->size)
				throw Error(EINVAL, "variable " + kv.first + " is " + std::to_string(v->size) +
							    " bytes, got " + std::to_string(kv.second.size()));
			size_t sz = 0;
			void *data = v->map ? const_cast<void *>(bpf_map__initial_value(v->map, &sz)) : nullptr;
			if (!data || (size_t)v->offset + v->size > sz)
				throw Error(EINVAL, "variable " + kv.first + " in " + v->section +
							    " cannot be set before load");
			memcpy((uint8_t *)data + v->offset, kv.second.data(), v->size);
		}
	}
	for (const auto &kv : o.max_entries) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, kv.first.c_str());
		if (!m)
			throw Error(ENOENT, "no map named " + kv.first + " in " + o.path);
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

	for (int round = 0; round < 24; round++) {
		Attempt a;
		{
			Capture cap(a.log);
			try {
				a.obj = open_object(opts.path, a.log);
				apply_options(a.obj.get(), opts);
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
				std::string name = bpf_program__name(p);
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
		if (a.err) {
			failing = failing_program(a.obj.get(), a.log);
			if (!failing.empty()) {
				size_t size = size_of.count(failing) ? size_of[failing] : opts.log_size;
				uint32_t level = level_of.count(failing) ? level_of[failing] : opts.log_level;
				// The kernel truncated the log (ENOSPC): retry with room for all of it.
				if (a.err == ENOSPC && (level & 3) && size < kMaxLogSize) {
					size_of[failing] = std::min(size * 4, kMaxLogSize);
					continue;
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
			r.name = bpf_program__name(p);
			r.section = bpf_program__section_name(p);
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
				      ": " + errno_text(a.err);
			return res;
		}
		res.ok = true;
		std::string name = bpf_object__name(a.obj.get());
		res.object.reset(new Object(a.obj.release(), name));
		return res;
	}
	res.err = EAGAIN;
	res.message = "load " + opts.path + ": gave up after repeated retries";
	return res;
}

// ---- loaded objects ----------------------------------------------------------------------

static void check_open(const Object *o)
{
	if (o->closed())
		throw Error(EBADF, "handle is closed");
}

struct bpf_program *Object::find_program(const std::string &name) const
{
	check_open(this);
	struct bpf_program *p = bpf_object__find_program_by_name(obj_, name.c_str());
	if (!p)
		throw Error(ENOENT, "no program named " + name + " in object " + name_);
	if (bpf_program__fd(p) < 0)
		throw Error(EBADF, "program " + name + " was not loaded");
	return p;
}

std::vector<LoadedProgram> Object::programs() const
{
	check_open(this);
	std::vector<LoadedProgram> out;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj_) {
		int fd = bpf_program__fd(p);
		if (fd < 0)
			continue;
		out.push_back({bpf_program__name(p), bpf_program__section_name(p),
			       prog_type_name(bpf_program__type(p)), prog_id_of(fd), fd});
	}
	return out;
}

std::vector<LoadedMap> Object::maps() const
{
	check_open(this);
	std::vector<LoadedMap> out;
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj_) {
		int fd = bpf_map__fd(m);
		if (fd < 0)
			continue;
		LoadedMap lm;
		lm.name = bpf_map__name(m);
		lm.type = map_type_name(bpf_map__type(m));
		lm.id = map_id_of(fd);
		lm.fd = fd;
		lm.key_size = bpf_map__key_size(m);
		lm.value_size = bpf_map__value_size(m);
		lm.max_entries = bpf_map__max_entries(m);
		lm.internal = bpf_map__is_internal(m);
		out.push_back(std::move(lm));
	}
	return out;
}

static std::string ifname_of(int ifindex)
{
	char buf[IF_NAMESIZE] = {};
	if (if_indextoname(ifindex, buf))
		return buf;
	return "ifindex " + std::to_string(ifindex);
}

std::shared_ptr<Attachment> Object::attach(const std::string &program, const AttachTarget &t)
{
	// libbpf often knows more than errno ("failed to resolve func"): keep its last word.
	std::string log;
	try {
		Capture cap(log);
		return attach_captured(program, t);
	} catch (const Error &e) {
		std::string why = last_message(log);
		if (why.empty())
			throw;
		throw Error(e.err(), std::string(e.what()) + " (" + why + ")");
	}
}

std::shared_ptr<Attachment> Object::attach_captured(const std::string &program, const AttachTarget &t)
{
	struct bpf_program *p = find_program(program);
	int prog_fd = bpf_program__fd(p);
	auto a = std::make_shared<Attachment>();
	a->kind_ = t.kind;
	std::string where;
	struct bpf_link *link = nullptr;

	if (t.kind == "auto") {
		where = bpf_program__section_name(p);
		a->description_ = where;
		link = bpf_program__attach(p);
	} else if (t.kind == "tracepoint") {
		where = t.category + "/" + t.name;
		a->description_ = where;
		link = bpf_program__attach_tracepoint(p, t.category.c_str(), t.name.c_str());
	} else if (t.kind == "raw_tracepoint") {
		where = t.name;
		a->description_ = where;
		link = bpf_program__attach_raw_tracepoint(p, t.name.c_str());
	} else if (t.kind == "uprobe") {
		struct bpf_uprobe_opts o;
		memset(&o, 0, sizeof(o));
		o.sz = sizeof(o);
		o.retprobe = t.retprobe;
		o.func_name = t.func.empty() ? nullptr : t.func.c_str();
		where = t.binary + ":" + (t.func.empty() ? "" : t.func);
		if (t.offset || t.func.empty()) {
			char off[32];
			snprintf(off, sizeof(off), "%s0x%llx", t.func.empty() ? "" : "+",
				 (unsigned long long)t.offset);
			where += off;
		}
		if (t.retprobe)
			where += " (return)";
		a->description_ = where;
		link = bpf_program__attach_uprobe_opts(p, t.pid, t.binary.c_str(), t.offset, &o);
	} else if (t.kind == "xdp") {
		where = "ifindex " + std::to_string(t.ifindex);
		a->description_ = ifname_of(t.ifindex) + " (xdp" + (t.mode.empty() ? "" : " " + t.mode) + ")";
		if (t.mode.empty()) {
			link = bpf_program__attach_xdp(p, t.ifindex);
		} else {
			// libbpf's xdp link helper takes no mode flags; bpf_link_create does (5.9).
			struct bpf_link_create_opts o;
			memset(&o, 0, sizeof(o));
			o.sz = sizeof(o);
			o.flags = t.mode == "skb" ? XDP_FLAGS_SKB_MODE :
				  t.mode == "drv" ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_HW_MODE;
			int fd = bpf_link_create(prog_fd, t.ifindex, BPF_XDP, &o);
			if (fd < 0)
				fail(errno, "attach " + program + " to " + where + " (" + t.mode + " mode)");
			a->link_fd_.reset(fd);
		}
	} else if (t.kind == "tc") {
		bool ingress = t.direction != "egress";
		where = "ifindex " + std::to_string(t.ifindex) + " tc " + (ingress ? "ingress" : "egress");
		a->description_ = ifname_of(t.ifindex) + " (tc " + (ingress ? "ingress" : "egress") + ")";
		// tcx links (6.6) first; netlink clsact filters on older kernels.
		int fd = bpf_link_create(prog_fd, t.ifindex,
					 (enum bpf_attach_type)(ingress ? BPF_TCX_INGRESS : BPF_TCX_EGRESS),
					 nullptr);
		if (fd >= 0) {
			a->link_fd_.reset(fd);
		} else {
			int err = errno;
			if (err != EINVAL && err != EOPNOTSUPP && err != ENOTSUPP)
				fail(err, "attach " + program + " to " + where);
			struct bpf_tc_hook hook;
			memset(&hook, 0, sizeof(hook));
			hook.sz = sizeof(hook);
			hook.ifindex = t.ifindex;
			hook.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
			int r = bpf_tc_hook_create(&hook);
			if (r && r != -EEXIST)
				fail(-r, "attach " + program + " to " + where + ": create clsact qdisc");
			bool created = r == 0;
			struct bpf_tc_opts o;
			memset(&o, 0, sizeof(o));
			o.sz = sizeof(o);
			o.prog_fd = prog_fd;
			r = bpf_tc_attach(&hook, &o);
			if (r) {
				if (created) {
					hook.attach_point = (enum bpf_tc_attach_point)(BPF_TC_INGRESS | BPF_TC_EGRESS);
					bpf_tc_hook_destroy(&hook);
				}
				fail(-r, "attach " + program + " to " + where);
			}
			a->tc_legacy_ = true;
			a->tc_destroy_hook_ = created;
			a->tc_ifindex_ = t.ifindex;
			a->tc_dir_ = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
			a->tc_handle_ = o.handle;
			a->tc_priority_ = o.priority;
			a->description_ += " [netlink filter]";
		}
	} else if (t.kind == "cgroup") {
		where = t.path;
		a->description_ = t.path;
		Fd cg(open(t.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		if (!cg)
			fail(errno, "attach " + program + " to cgroup " + t.path);
		link = bpf_program__attach_cgroup(p, cg.get());
		where = "cgroup " + t.path;
	} else if (t.kind == "socket") {
		where = t.ifindex ? ifname_of(t.ifindex) : std::string("all interfaces");
		a->description_ = where + " (socket)";
		Fd s(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
		if (!s)
			fail(errno, "attach " + program + " to " + where + ": AF_PACKET socket");
		if (t.ifindex) {
			struct sockaddr_ll sll;
			memset(&sll, 0, sizeof(sll));
			sll.sll_family = AF_PACKET;
			sll.sll_protocol = htons(ETH_P_ALL);
			sll.sll_ifindex = t.ifindex;
			if (bind(s.get(), (struct sockaddr *)&sll, sizeof(sll)))
				fail(errno, "attach " + program + " to " + where + ": bind");
		}
		if (setsockopt(s.get(), SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)))
			fail(errno, "attach " + program + " to " + where);
		a->socket_ = std::move(s);
	} else {
		throw Error(EINVAL, "unknown attach kind " + t.kind);
	}

	if (a->kind_ == "auto" || a->kind_ == "tracepoint" || a->kind_ == "raw_tracepoint" ||
	    a->kind_ == "uprobe" || a->kind_ == "cgroup" || (a->kind_ == "xdp" && t.mode.empty())) {
		if (!link)
			fail(errno, "attach " + program + " to " + where);
		a->link_ = link;
		a->link_id_ = link_id_of(bpf_link__fd(link));
	} else if (a->link_fd_) {
		a->link_id_ = link_id_of(a->link_fd_.get());
	}
	attachments_.push_back(a);
	return a;
}

void Object::pin_program(const std::string &program, const std::string &path)
{
	struct bpf_program *p = find_program(program);
	int err = bpf_program__pin(p, path.c_str());
	if (err)
		fail(-err, "pin program " + program + " at " + path);
}

void Object::pin_map(const std::string &map, const std::string &path)
{
	check_open(this);
	struct bpf_map *m = bpf_object__find_map_by_name(obj_, map.c_str());
	if (!m)
		throw Error(ENOENT, "no map named " + map + " in object " + name_);
	int err = bpf_map__pin(m, path.c_str());
	if (err)
		fail(-err, "pin map " + map + " at " + path);
}

void Object::close()
{
	// Unpinned links go with their fds; pinned ones live on through the pin.
	for (auto &a : attachments_)
		a->detach();
	attachments_.clear();
	if (obj_)
		bpf_object__close(obj_);
	obj_ = nullptr;
}

Attachment::~Attachment()
{
	detach();
}

void Attachment::detach()
{
	if (detached_)
		return;
	detached_ = true;
	if (link_)
		bpf_link__destroy(link_);
	link_ = nullptr;
	link_fd_.reset();
	socket_.reset();
	if (tc_legacy_) {
		struct bpf_tc_hook hook;
		memset(&hook, 0, sizeof(hook));
		hook.sz = sizeof(hook);
		hook.ifindex = tc_ifindex_;
		hook.attach_point = (enum bpf_tc_attach_point)tc_dir_;
		struct bpf_tc_opts o;
		memset(&o, 0, sizeof(o));
		o.sz = sizeof(o);
		o.handle = tc_handle_;
		o.priority = tc_priority_;
		bpf_tc_detach(&hook, &o);
		if (tc_destroy_hook_) {
			hook.attach_point = (enum bpf_tc_attach_point)(BPF_TC_INGRESS | BPF_TC_EGRESS);
			bpf_tc_hook_destroy(&hook);
		}
		tc_legacy_ = false;
	}
}

void Attachment::pin(const std::string &path)
{
	if (detached_)
		throw Error(EBADF, "handle is closed");
	int err = 0;
	if (link_)
		err = bpf_link__pin(link_, path.c_str());
	else if (link_fd_)
		err = bpf_obj_pin(link_fd_.get(), path.c_str()) ? -errno : 0;
	else
		throw Error(EOPNOTSUPP, "pin " + description_ + " at " + path + ": a " +
						(tc_legacy_ ? "netlink tc filter" : kind_ + " attachment") +
						" is not a bpf_link and cannot be pinned");
	if (err)
		fail(-err, "pin " + description_ + " at " + path);
}

// ---- kernel-wide listing -----------------------------------------------------------------
namespace {

// Walks ids with get_next_id, skipping objects that vanish between next_id and get_fd_by_id.
template <typename NextFn, typename FdFn, typename Visit>
void for_each_id(const char *what, NextFn next, FdFn get_fd, Visit visit)
{
	uint32_t id = 0;
	for (;;) {
		if (next(id, &id)) {
			if (errno == ENOENT)
				return;
			fail(errno, std::string("list ") + what);
		}
		Fd fd(get_fd(id));
		if (!fd) {
			if (errno == ENOENT)
				continue;
			fail(errno, std::string("open ") + what + " id " + std::to_string(id));
		}
		visit(id, fd.get());
	}
}

std::string hex_tag(const uint8_t *tag, size_t n)
{
	std::string s;
	char b[3];
	for (size_t i = 0; i < n; i++) {
		snprintf(b, sizeof(b), "%02x", tag[i]);
		s += b;
	}
	return s;
}

// struct bpf_link_info as kernels up to 6.18 lay it out; the installed uapi header (6.1)
// lacks tcx/netkit/perf_event details. Larger than any kernel's struct so the kernel's
// tail-zero check passes.
struct LinkInfoRaw {
	uint32_t type, id, prog_id, pad;
	union {
		struct {
			uint64_t tp_name;
			uint32_t tp_name_len;
		} raw_tracepoint;
		struct {
			uint32_t attach_type, target_obj_id, target_btf_id;
		} tracing;
		struct {
			uint64_t cgroup_id;
			uint32_t attach_type;
		} cgroup;
		struct {
			uint32_t netns_ino, attach_type;
		} netns;
		struct {
			uint32_t ifindex;
		} xdp;
		struct {
			uint32_t map_id;
		} struct_ops;
		struct {
			uint32_t ifindex, attach_type;
		} tcx; // also netkit (13)
		struct {
			uint32_t type, pad;
			uint64_t name;    // uprobe file_name / kprobe func_name / tracepoint tp_name
			uint32_t name_len;
			uint32_t offset;  // uprobe, kprobe
			uint64_t addr;    // kprobe
		} perf_event;
		uint8_t raw[240];
	};
};

enum { PERF_UPROBE = 1, PERF_URETPROBE, PERF_KPROBE, PERF_KRETPROBE, PERF_TRACEPOINT, PERF_EVENT };

} // namespace

std::vector<ProgramInfo> list_programs()
{
	std::vector<ProgramInfo> out;
	for_each_id("programs", bpf_prog_get_next_id, bpf_prog_get_fd_by_id, [&](uint32_t id, int fd) {
		struct bpf_prog_info info;
		memset(&info, 0, sizeof(info));
		uint32_t len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			fail(errno, "get info of program " + std::to_string(id));
		ProgramInfo pi;
		pi.id = info.id;
		pi.name = info.name;
		pi.type = prog_type_name(info.type);
		pi.tag = hex_tag(info.tag, sizeof(info.tag));
		pi.load_time_ns = info.load_time;
		pi.uid = info.created_by_uid;
		pi.run_count = info.run_cnt;
		pi.run_time_ns = info.run_time_ns;
		pi.recursion_misses = info.recursion_misses;
		pi.verified_insns = info.verified_insns;
		pi.xlated_bytes = info.xlated_prog_len;
		pi.jited_bytes = info.jited_prog_len;
		pi.btf_id = info.btf_id;
		pi.gpl_compatible = info.gpl_compatible;
		if (info.nr_map_ids) {
			// Second call for the map ids only, sized by the first.
			std::vector<uint32_t> ids(info.nr_map_ids);
			struct bpf_prog_info info2;
			memset(&info2, 0, sizeof(info2));
			info2.nr_map_ids = ids.size();
			info2.map_ids = (uint64_t)(uintptr_t)ids.data();
			len = sizeof(info2);
			if (bpf_obj_get_info_by_fd(fd, &info2, &len) == 0) {
				ids.resize(std::min<size_t>(ids.size(), info2.nr_map_ids));
				pi.map_ids = std::move(ids);
			}
		}
		out.push_back(std::move(pi));
	});
	return out;
}

MapInfo map_info_by_fd(int fd)
{
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	uint32_t len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		fail(errno, "get map info");
	MapInfo mi;
	mi.id = info.id;
	mi.name = info.name;
	mi.type_num = info.type;
	mi.type = map_type_name(info.type);
	mi.key_size = info.key_size;
	mi.value_size = info.value_size;
	mi.max_entries = info.max_entries;
	mi.flags = info.map_flags;
	mi.btf_id = info.btf_id;
	mi.btf_key_type_id = info.btf_key_type_id;
	mi.btf_value_type_id = info.btf_value_type_id;
	return mi;
}

std::vector<MapInfo> list_maps()
{
	std::vector<MapInfo> out;
	for_each_id("maps", bpf_map_get_next_id, bpf_map_get_fd_by_id,
		    [&](uint32_t, int fd) { out.push_back(map_info_by_fd(fd)); });
	return out;
}

std::vector<LinkInfo> list_links()
{
	std::vector<LinkInfo> out;
	for_each_id("links", bpf_link_get_next_id, bpf_link_get_fd_by_id, [&](uint32_t id, int fd) {
		LinkInfoRaw info;
		memset(&info, 0, sizeof(info));
		uint32_t len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			fail(errno, "get info of link " + std::to_string(id));
		// Names come back only into buffers we pass, and where depends on the type: ask again.
		char name[512] = {};
		if (info.type == BPF_LINK_TYPE_RAW_TRACEPOINT || info.type == BPF_LINK_TYPE_PERF_EVENT) {
			uint32_t type = info.type, perf_type = info.perf_event.type;
			memset(&info, 0, sizeof(info));
			if (type == BPF_LINK_TYPE_RAW_TRACEPOINT) {
				info.raw_tracepoint.tp_name = (uint64_t)(uintptr_t)name;
				info.raw_tracepoint.tp_name_len = sizeof(name);
			} else if (perf_type != PERF_EVENT && perf_type != 0) {
				info.perf_event.name = (uint64_t)(uintptr_t)name;
				info.perf_event.name_len = sizeof(name);
			}
			len = sizeof(info);
			if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
				// Kernels before 6.6 have no perf_event details: keep the basics.
				memset(&info, 0, sizeof(info));
				len = sizeof(info);
				name[0] = 0;
				if (bpf_obj_get_info_by_fd(fd, &info, &len))
					fail(errno, "get info of link " + std::to_string(id));
			}
			name[sizeof(name) - 1] = 0;
		}
		LinkInfo li;
		li.id = info.id;
		li.type = link_type_name(info.type);
		li.prog_id = info.prog_id;
		switch (info.type) {
		case BPF_LINK_TYPE_RAW_TRACEPOINT:
			li.target = name;
			break;
		case BPF_LINK_TYPE_TRACING:
			li.has_attach_type = true;
			li.attach_type = attach_type_name(info.tracing.attach_type);
			li.target = li.attach_type + " btf_id " + std::to_string(info.tracing.target_btf_id);
			if (info.tracing.target_obj_id)
				li.target += " obj " + std::to_string(info.tracing.target_obj_id);
			break;
		case BPF_LINK_TYPE_CGROUP:
			li.has_cgroup_id = true;
			li.cgroup_id = info.cgroup.cgroup_id;
			li.has_attach_type = true;
			li.attach_type = attach_type_name(info.cgroup.attach_type);
			li.target = "cgroup " + std::to_string(info.cgroup.cgroup_id);
			break;
		case BPF_LINK_TYPE_NETNS:
			li.has_attach_type = true;
			li.attach_type = attach_type_name(info.netns.attach_type);
			li.target = "netns " + std::to_string(info.netns.netns_ino);
			break;
		case BPF_LINK_TYPE_XDP:
			li.has_ifindex = true;
			li.ifindex = info.xdp.ifindex;
			li.target = ifname_of(info.xdp.ifindex);
			break;
		case 11: // tcx (6.6)
		case 13: // netkit (6.7)
			li.has_ifindex = true;
			li.ifindex = info.tcx.ifindex;
			li.has_attach_type = true;
			li.attach_type = attach_type_name(info.tcx.attach_type);
			li.target = ifname_of(info.tcx.ifindex) + " " + li.attach_type;
			break;
		case BPF_LINK_TYPE_PERF_EVENT:
			// tp_name/file/func only on 6.6+; "" before that.
			li.target = name;
			if (name[0] && (info.perf_event.type == PERF_UPROBE ||
					info.perf_event.type == PERF_URETPROBE ||
					info.perf_event.type == PERF_KPROBE ||
					info.perf_event.type == PERF_KRETPROBE) && info.perf_event.offset) {
				char off[32];
				snprintf(off, sizeof(off), "+0x%x", info.perf_event.offset);
				li.target += off;
			}
			break;
		case BPF_LINK_TYPE_STRUCT_OPS:
			li.target = "map " + std::to_string(info.struct_ops.map_id);
			break;
		default:
			break;
		}
		out.push_back(std::move(li));
	});
	return out;
}

int enable_stats()
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		fail(errno, "enable run-time stats");
	return fd;
}

PinnedInfo pinned_object_info(const std::string &path)
{
	Fd fd(bpf_obj_get(path.c_str()));
	if (!fd)
		fail(errno, "open pinned object " + path);
	// fdinfo names the object's kind without guessing from info struct sizes.
	std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd.get()));
	std::string line, kind;
	while (std::getline(in, line) && kind.empty()) {
		if (line.rfind("prog_type:", 0) == 0)
			kind = "prog";
		else if (line.rfind("map_type:", 0) == 0)
			kind = "map";
		else if (line.rfind("link_type:", 0) == 0)
			kind = "link";
	}
	if (kind.empty())
		throw Error(EINVAL, "pinned object " + path + " is not a program, map or link");
	PinnedInfo pi;
	pi.kind = kind;
	if (kind == "prog")
		pi.id = prog_id_of(fd.get());
	else if (kind == "map")
		pi.id = map_id_of(fd.get());
	else
		pi.id = link_id_of(fd.get());
	return pi;
}

void unpin(const std::string &path)
{
	if (unlink(path.c_str()))
		fail(errno, "unpin " + path);
}

// ---- maps --------------------------------------------------------------------------------

MapHandle::MapHandle(int fd) : fd_(fd)
{
	info_ = map_info_by_fd(fd);
	user_value_size_ = info_.value_size;
	if (map_type_is_percpu(info_.type_num))
		user_value_size_ = ((info_.value_size + 7) / 8 * 8) * libbpf_num_possible_cpus();
}

std::unique_ptr<MapHandle> MapHandle::open_id(uint32_t id)
{
	int fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		fail(errno, "open map id " + std::to_string(id));
	Fd guard(fd);
	std::unique_ptr<MapHandle> h(new MapHandle(fd));
	guard.release();
	return h;
}

std::unique_ptr<MapHandle> MapHandle::open_pinned(const std::string &path)
{
	int fd = bpf_obj_get(path.c_str());
	if (fd < 0)
		fail(errno, "open pinned map " + path);
	Fd guard(fd);
	std::string t;
	{
		std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
		std::string line;
		while (std::getline(in, line))
			if (line.rfind("map_type:", 0) == 0)
				t = line;
	}
	if (t.empty())
		throw Error(EINVAL, "open pinned map " + path + ": not a map");
	std::unique_ptr<MapHandle> h(new MapHandle(fd));
	guard.release();
	return h;
}

static void check_open(const MapHandle *m)
{
	if (m->closed())
		throw Error(EBADF, "handle is closed");
}

bool MapHandle::lookup(const uint8_t *key, std::vector<uint8_t> &value)
{
	check_open(this);
	value.assign(user_value_size_, 0);
	if (bpf_map_lookup_elem(fd_.get(), (void *)key, value.data())) {
		if (errno == ENOENT)
			return false;
		fail(errno, "lookup in map " + info_.name);
	}
	return true;
}

void MapHandle::update(const uint8_t *key, const uint8_t *value, uint64_t flags)
{
	check_open(this);
	if (bpf_map_update_elem(fd_.get(), key, value, flags))
		fail(errno, "update map " + info_.name);
}

bool MapHandle::remove(const uint8_t *key)
{
	check_open(this);
	if (bpf_map_delete_elem(fd_.get(), key)) {
		if (errno == ENOENT)
			return false;
		fail(errno, "delete from map " + info_.name);
	}
	return true;
}

bool MapHandle::next_key(const uint8_t *key, std::vector<uint8_t> &next)
{
	check_open(this);
	next.assign(info_.key_size, 0);
	if (bpf_map_get_next_key(fd_.get(), key, next.data())) {
		if (errno == ENOENT)
			return false;
		fail(errno, "next key in map " + info_.name);
	}
	return true;
}

static bool undumpable(unsigned t)
{
	return t == BPF_MAP_TYPE_RINGBUF || t == BPF_MAP_TYPE_USER_RINGBUF ||
	       t == BPF_MAP_TYPE_PERF_EVENT_ARRAY || t == BPF_MAP_TYPE_QUEUE ||
	       t == BPF_MAP_TYPE_STACK || t == BPF_MAP_TYPE_BLOOM_FILTER ||
	       t == BPF_MAP_TYPE_STRUCT_OPS || t == 33 /* arena */;
}

BatchRead MapHandle::lookup_batch(uint32_t max_count, const std::vector<uint8_t> *cursor)
{
	check_open(this);
	if (undumpable(info_.type_num))
		throw Error(EOPNOTSUPP, "map type " + info_.type + " cannot be dumped");
	if (batch_unsupported_)
		return lookup_batch_fallback(max_count, cursor);
	if (max_count == 0)
		max_count = 1;
	BatchRead r;
	int err = lookup_batch_page(max_count, cursor, r);
	if (err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP) {
		if (cursor)
			fail(err, "batch lookup in map " + info_.name);
		batch_unsupported_ = true;
		return lookup_batch_fallback(max_count, nullptr);
	}
	if (err)
		fail(err, "batch lookup in map " + info_.name);
	return r;
}

int MapHandle::lookup_batch_page(uint32_t max_count, const std::vector<uint8_t> *cursor, BatchRead &r)
{
	check_open(this);
	// Hash maps use a u32 bucket cursor, arrays a key: room for either.
	size_t tok = std::max<size_t>(info_.key_size, 8);
	std::vector<uint8_t> in(tok, 0), out(tok, 0);
	if (cursor)
		memcpy(in.data(), cursor->data(), std::min(tok, cursor->size()));
	uint32_t want = std::max<uint32_t>(1, max_count);
	for (;;) {
		r.keys.assign((size_t)want * info_.key_size, 0);
		r.values.assign((size_t)want * user_value_size_, 0);
		uint32_t count = want;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int err = bpf_map_lookup_batch(fd_.get(), cursor ? in.data() : nullptr, out.data(),
					       r.keys.data(), r.values.data(), &count, &opts);
		err = err ? errno : 0;
		if (err == ENOSPC && count == 0 && want < info_.max_entries) {
			// One hash bucket holds more than `want` entries: make room for it.
			want = std::min(want * 2, info_.max_entries);
			continue;
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
BatchRead MapHandle::lookup_batch_fallback(uint32_t max_count, const std::vector<uint8_t> *cursor)
{
	BatchRead r;
	std::vector<uint8_t> key, value;
	std::vector<uint8_t> prev;
	if (cursor)
		prev = *cursor;
	if (cursor && prev.size() != info_.key_size)
		throw Error(EINVAL, "cursor does not belong to map " + info_.name);
	for (;;) {
		if (r.count >= max_count) {
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

void MapHandle::btf_types(bool &has_key, BtfNode &key, bool &has_value, BtfNode &value)
{
	check_open(this);
	has_key = has_value = false;
	if (!info_.btf_id)
		return;
	std::string log;
	Capture cap(log);
	std::unique_ptr<struct btf, BtfFree> btf(btf__load_from_kernel_by_id(info_.btf_id));
	if (!btf)
		fail(errno, "load BTF " + std::to_string(info_.btf_id) + " of map " + info_.name);
	if (info_.btf_key_type_id) {
		has_key = true;
		key = btf_resolve(btf.get(), info_.btf_key_type_id);
	}
	if (info_.btf_value_type_id) {
		has_value = true;
		value = btf_resolve(btf.get(), info_.btf_value_type_id);
	}
}

int open_map_fd_checked(uint32_t id, unsigned want_type, const char *what)
{
	Fd fd(bpf_map_get_fd_by_id(id));
	if (!fd)
		fail(errno, std::string(what) + ": open map id " + std::to_string(id));
	MapInfo mi = map_info_by_fd(fd.get());
	if (mi.type_num != want_type)
		throw Error(EINVAL, std::string(what) + ": map " + std::to_string(id) + " (" + mi.name +
					    ") is a " + mi.type + " map, not " + map_type_name(want_type));
	return fd.release();
}

// ---- test run ----------------------------------------------------------------------------

TestRunResult test_run(uint32_t prog_id, const uint8_t *data, size_t len, uint32_t repeat)
{
	Fd fd(bpf_prog_get_fd_by_id(prog_id));
	if (!fd)
		fail(errno, "test run: open program id " + std::to_string(prog_id));
	TestRunResult r;
	r.data_out.assign(len + 256, 0);
	struct bpf_test_run_opts o;
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.data_in = len ? data : nullptr;
	o.data_size_in = len;
	o.data_out = r.data_out.data();
	o.data_size_out = r.data_out.size();
	o.repeat = repeat;
	if (bpf_prog_test_run_opts(fd.get(), &o))
		fail(errno, "test run of program " + std::to_string(prog_id));
	r.retval = o.retval;
	r.duration_ns = o.duration;
	r.data_out.resize(std::min<size_t>(o.data_size_out, r.data_out.size()));
	return r;
}

} // namespace core

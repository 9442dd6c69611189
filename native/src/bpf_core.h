// Plain C++ over libbpf: no napi.h here. Everything the JS binding needs is expressed as plain
// structs; failures are core::Error exceptions carrying a positive errno and a message that
// names the operation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

struct bpf_object;
struct bpf_program;
struct bpf_link;
struct btf;

namespace core {

// An errno-carrying failure. errno is always positive (EPERM = 1, ...).
class Error : public std::runtime_error {
public:
	Error(int err, const std::string &msg) : std::runtime_error(msg), err_(err) {}
	int err() const { return err_; }

private:
	int err_;
};

// "what: strerror(err)"; libbpf's private errnos (>= 4000) are reported as EINVAL with libbpf's text.
[[noreturn]] void fail(int err, const std::string &what);
std::string errno_text(int err);
// Name of an errno ("EPERM"), "" when unknown.
std::string errno_name(int err);

// Closes an fd on every path.
class Fd {
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	Fd(Fd &&o) noexcept : fd_(o.release()) {}
	Fd &operator=(Fd &&o) noexcept;
	~Fd() { reset(); }
	int get() const { return fd_; }
	int release();
	void reset(int fd = -1);
	explicit operator bool() const { return fd_ >= 0; }

private:
	int fd_ = -1;
};

// ---- names -------------------------------------------------------------------------------
// Lower-case names without BPF_*_TYPE_ prefixes; libbpf 1.1 does not know types added after it,
// so a small table of newer kernels' values backs it up.
std::string prog_type_name(unsigned t);
std::string map_type_name(unsigned t);
std::string attach_type_name(unsigned t);
std::string link_type_name(unsigned t);
bool map_type_is_percpu(unsigned t);

// ---- BTF ---------------------------------------------------------------------------------
struct BtfNode;
struct BtfMemberNode;
struct BtfEnumValue {
	std::string name;
	int64_t value;
};
// A resolved BTF type (mirror of native/types.ts BtfType). Children are owned by value.
struct BtfNode {
	std::string kind = "void"; // void int float ptr array struct union enum typedef fwd func unknown
	std::string name;
	uint32_t size = 0;
	bool is_signed = false, is_char = false, is_bool = false;
	uint32_t bits = 0;
	std::string target_name;          // ptr
	uint32_t length = 0;              // array
	std::vector<BtfNode> child;       // array elem / typedef target (0 or 1 entries)
	std::vector<BtfMemberNode> members;
	std::vector<BtfEnumValue> values;
};
struct BtfMemberNode {
	std::string name;
	uint32_t bit_offset = 0, bit_size = 0;
	BtfNode type;
};
// Resolves type id; const/volatile/restrict/type tags are skipped, pointers are cut to a name,
// nesting deeper than 32 becomes {kind: unknown}.
BtfNode btf_resolve(const struct btf *btf, uint32_t id);

// ---- describe ----------------------------------------------------------------------------
struct ProgramSpec {
	std::string name, section, type, expected_attach_type;
	size_t insn_count = 0;
	bool autoload = false;
};
struct MapSpec {
	std::string name, type;
	uint32_t key_size = 0, value_size = 0, max_entries = 0;
	bool internal = false;
};
struct VariableSpec {
	std::string name, section;
	uint32_t offset = 0, size = 0;
	BtfNode type;
	std::vector<uint8_t> initial;
};
struct ObjectSpec {
	std::string path, name;
	std::vector<ProgramSpec> programs;
	std::vector<MapSpec> maps;
	std::vector<VariableSpec> variables;
	std::vector<std::string> struct_names;
};
ObjectSpec describe_object(const std::string &path);

// ---- load --------------------------------------------------------------------------------
struct LoadOptions {
	std::string path;
	bool has_programs = false;
	std::vector<std::string> programs;
	std::map<std::string, std::vector<uint8_t>> variables;
	std::map<std::string, uint32_t> max_entries;
	uint32_t log_level = 4;
	size_t log_size = 1 << 20;
};
struct ProgramReport {
	std::string name, section, type;
	bool loaded = false;
	uint32_t id = 0;
	std::string log;
};
struct LoadedProgram {
	std::string name, section, type;
	uint32_t id = 0;
	int fd = -1;
};
struct LoadedMap {
	std::string name, type;
	uint32_t id = 0;
	int fd = -1;
	uint32_t key_size = 0, value_size = 0, max_entries = 0;
	bool internal = false;
};

struct AttachTarget {
	std::string kind; // auto tracepoint raw_tracepoint uprobe xdp tc cgroup socket
	std::string category, name;       // tracepoint / raw_tracepoint
	std::string binary, func;         // uprobe
	uint64_t offset = 0;
	int pid = -1;
	bool retprobe = false;
	int ifindex = 0;                  // xdp tc socket
	std::string mode;                 // xdp: skb drv hw
	std::string direction;            // tc: ingress egress
	std::string path;                 // cgroup
};

// One attachment; detach() is idempotent. Owned jointly by its object and its JS handle.
class Attachment {
public:
	~Attachment();
	void detach();
	void pin(const std::string &path);
	uint32_t link_id() const { return link_id_; }
	const std::string &kind() const { return kind_; }
	const std::string &description() const { return description_; }

private:
	friend class Object;
	std::string kind_, description_;
	struct bpf_link *link_ = nullptr; // libbpf link
	Fd link_fd_;                      // raw link fd (xdp with mode, tcx)
	Fd socket_;                       // socket filter
	bool tc_legacy_ = false;          // netlink tc filter (kernels before 6.6)
	bool tc_destroy_hook_ = false;    // we created the clsact qdisc
	int tc_ifindex_ = 0, tc_dir_ = 0;
	uint32_t tc_handle_ = 0, tc_priority_ = 0;
	uint32_t link_id_ = 0;
	bool detached_ = false;
};

// A loaded bpf_object; owns program/map fds and the attachments made through it.
class Object {
public:
	Object(struct bpf_object *obj, std::string name) : obj_(obj), name_(std::move(name)) {}
	~Object() { close(); }
	Object(const Object &) = delete;
	Object &operator=(const Object &) = delete;

	const std::string &name() const { return name_; }
	bool closed() const { return obj_ == nullptr; }
	std::vector<LoadedProgram> programs() const;
	std::vector<LoadedMap> maps() const;
	std::shared_ptr<Attachment> attach(const std::string &program, const AttachTarget &target);
	void pin_program(const std::string &program, const std::string &path);
	void pin_map(const std::string &map, const std::string &path);
	// Detaches every attachment (pinned links survive through their pins) and closes all fds.
	void close();

private:
	struct bpf_program *find_program(const std::string &name) const;
	std::shared_ptr<Attachment> attach_captured(const std::string &program, const AttachTarget &t);
	struct bpf_object *obj_;
	std::string name_;
	std::vector<std::shared_ptr<Attachment>> attachments_;
};

struct LoadResult {
	bool ok = false;
	int err = 0;
	std::string message, program;
	std::vector<ProgramReport> programs;
	std::string libbpf_log;
	std::unique_ptr<Object> object;
};
// Never throws for a load failure: the result carries errno/message/program instead.
LoadResult load_object(const LoadOptions &opts);

// ---- kernel-wide listing -----------------------------------------------------------------
struct ProgramInfo {
	uint32_t id = 0;
	std::string name, type, tag;
	std::vector<uint32_t> map_ids;
	uint64_t load_time_ns = 0;
	uint32_t uid = 0;
	uint64_t run_count = 0, run_time_ns = 0, recursion_misses = 0;
	uint32_t verified_insns = 0, xlated_bytes = 0, jited_bytes = 0, btf_id = 0;
	bool gpl_compatible = false;
};
struct MapInfo {
	uint32_t id = 0;
	std::string name, type;
	uint32_t type_num = 0;
	uint32_t key_size = 0, value_size = 0, max_entries = 0, flags = 0;
	uint32_t btf_id = 0, btf_key_type_id = 0, btf_value_type_id = 0;
};
struct LinkInfo {
	uint32_t id = 0;
	std::string type;
	uint32_t prog_id = 0;
	std::string target;
	bool has_ifindex = false, has_cgroup_id = false, has_attach_type = false;
	uint32_t ifindex = 0;
	uint64_t cgroup_id = 0;
	std::string attach_type;
};
std::vector<ProgramInfo> list_programs();
std::vector<MapInfo> list_maps();
std::vector<LinkInfo> list_links();
MapInfo map_info_by_fd(int fd);

// BPF_ENABLE_STATS(BPF_STATS_RUN_TIME); the fd keeps stats on while open. Kernel 5.8.
int enable_stats();

struct PinnedInfo {
	std::string kind; // prog map link
	uint32_t id = 0;
};
PinnedInfo pinned_object_info(const std::string &path);
void unpin(const std::string &path);

// ---- maps --------------------------------------------------------------------------------
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
	BatchRead lookup_batch(uint32_t max_count, const std::vector<uint8_t> *cursor);
	// One page of bpf_map_lookup_batch (kernel 5.6) without the key-walk fallback: 0 with r filled, or
	// the errno of the failed call (EINVAL, ENOTSUPP, EOPNOTSUPP: this map type has no batch ops).
	int lookup_batch_page(uint32_t max_count, const std::vector<uint8_t> *cursor, BatchRead &r);
	// Resolved key/value types; has_* false when the map has no BTF for them.
	void btf_types(bool &has_key, BtfNode &key, bool &has_value, BtfNode &value);
	void close() { fd_.reset(); }

private:
	explicit MapHandle(int fd);
	BatchRead lookup_batch_fallback(uint32_t max_count, const std::vector<uint8_t> *cursor);
	Fd fd_;
	MapInfo info_;
	uint32_t user_value_size_ = 0;
	bool batch_unsupported_ = false;
};

// ---- test run ----------------------------------------------------------------------------
struct TestRunResult {
	int64_t retval = 0;
	std::vector<uint8_t> data_out;
	uint32_t duration_ns = 0;
};
TestRunResult test_run(uint32_t prog_id, const uint8_t *data, size_t len, uint32_t repeat);

// Opens a map fd by id, checking its type; throws with a clear message.
int open_map_fd_checked(uint32_t id, unsigned want_type, const char *what);

std::string libbpf_version();

} // namespace core

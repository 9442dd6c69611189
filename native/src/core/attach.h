// Core layer: where a program attaches (AttachTarget) and one attachment (Attachment): a bpf_link,
// a raw link fd (xdp with a mode, tcx), a netlink tc filter or a socket filter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"

struct bpf_link;

namespace core {

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

// A netlink tc filter eBPF Studio added to a clsact qdisc, as the helper records it: netlink filters are
// not owned by a file descriptor, so they outlive the process that added them.
struct TcFilterRef {
	int ifindex = 0;
	bool ingress = true;
	uint32_t handle = 0, priority = 0, prog_id = 0;
};

// One filter on a clsact qdisc, as an rtnetlink dump reports it.
struct TcFilter {
	bool ingress = true;
	uint32_t handle = 0, priority = 0;
	std::string kind;     // "bpf", "matchall", "u32", ...
	uint32_t prog_id = 0; // bpf filters
	std::string name;     // bpf filters: the name cls_bpf gives the program
};

// The clsact qdisc of an interface. `empty` only when both directions were read and hold nothing at all.
struct TcClsact {
	bool present = false;
	bool empty = false;
	std::vector<TcFilter> filters;
};

// Reads ifindex's clsact qdisc and its filters in both directions over rtnetlink (clsact: kernel 4.5).
TcClsact tc_clsact(int ifindex);

struct TcDetachResult {
	bool removed = false;       // our filter was there, still running prog_id, and is gone now
	bool qdisc_removed = false; // the clsact qdisc was empty afterwards and was deleted
};

// Removes a recorded netlink filter if it is still there and still runs its program (a filter another tool
// put at the same handle and priority since is left alone). With destroy_qdisc_if_empty, the clsact qdisc
// goes too, but only when no filter at all is left on it in either direction; when unsure, it stays.
TcDetachResult tc_detach_filter(const TcFilterRef &f, bool destroy_qdisc_if_empty);

// One attachment; detach() is idempotent. Owned jointly by its object and its JS handle.
class Attachment {
public:
	~Attachment();
	void detach();
	void pin(const std::string &path);
	uint32_t link_id() const { return link_id_; }
	const std::string &kind() const { return kind_; }
	const std::string &description() const { return description_; }
	// Netlink tc filters only (tc_netlink()): where the filter is, and whether the clsact qdisc it sits on
	// was created by this process (then the last of our filters to leave it removes it, if it is empty).
	bool tc_netlink() const { return tc_legacy_; }
	const TcFilterRef &tc_ref() const { return tc_; }
	bool tc_qdisc_ours() const { return tc_qdisc_ours_; }

private:
	friend class Object;
	std::string kind_, description_;
	struct bpf_link *link_ = nullptr; // libbpf link
	Fd link_fd_;                      // raw link fd (xdp with mode, tcx)
	Fd socket_;                       // socket filter
	bool tc_legacy_ = false;          // netlink tc filter (kernels before 6.6, or forced)
	bool tc_qdisc_ours_ = false;      // counted in the process's clsact qdiscs (attach.cc)
	TcFilterRef tc_;
	uint32_t link_id_ = 0;
	bool detached_ = false;
};

} // namespace core

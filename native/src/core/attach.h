// Core layer: where a program attaches (AttachTarget) and one attachment (Attachment): a bpf_link,
// a raw link fd (xdp with a mode, tcx), a netlink tc filter or a socket filter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "tc_netlink.h"

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
	bool tc_qdisc_ours_ = false;      // counted in the process's clsact qdiscs (tc_netlink.cc)
	TcFilterRef tc_;
	uint32_t link_id_ = 0;
	bool detached_ = false;
};

} // namespace core

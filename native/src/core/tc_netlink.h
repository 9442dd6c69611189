// Core layer: tc filters over netlink, the path before tcx links (kernel 6.6): the clsact qdiscs this process
// created (added, and removed again when the last of our filters leaves an empty one), filter query and
// detach, and the rtnetlink dump that lists what is on a clsact qdisc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace core {

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

struct TcAttached {
	TcFilterRef ref;
	bool qdisc_ours = false; // the clsact qdisc was created by this process (counted until released)
};

// Adds prog_fd as a filter on ifindex's clsact qdisc, creating the qdisc if it is missing (kernel 4.5).
// `what` ("attach prog to eth0 tc ingress") starts the error messages.
TcAttached tc_attach_filter(int prog_fd, int ifindex, bool ingress, const std::string &what);

// Detaches a filter tc_attach_filter added; the last of our filters to leave a qdisc we created removes
// the qdisc, if nothing else is on it.
void tc_release_filter(const TcFilterRef &f, bool qdisc_ours);

} // namespace core

// Core layer: attaching a loaded program (tracepoint, raw tracepoint, uprobe, xdp, tc, cgroup, socket
// filter), and detaching and pinning attachments.
#include "attach.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libbpf_log.h"
#include "listing.h"
#include "names.h"
#include "object.h"
#include "tc_netlink.h"

// Newer than the installed uapi headers (6.1): define what we use from later kernels.
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif
#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif

namespace core {

namespace {

bool force_netlink()
{
	// For tests on kernels that have tcx (6.6+): the netlink path is otherwise only taken on older ones.
	const char *v = getenv("EBPF_STUDIO_FORCE_TC_NETLINK");
	return v && strcmp(v, "1") == 0;
}

} // namespace

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
		where = str_or_empty(bpf_program__section_name(p));
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
		int fd = -1;
		int err = EOPNOTSUPP;
		if (!force_netlink()) {
			fd = bpf_link_create(prog_fd, t.ifindex,
					     (enum bpf_attach_type)(ingress ? BPF_TCX_INGRESS : BPF_TCX_EGRESS), nullptr);
			err = errno;
		}
		if (fd >= 0) {
			a->link_fd_.reset(fd);
		} else {
			if (err != EINVAL && err != EOPNOTSUPP && err != ENOTSUPP)
				fail(err, "attach " + program + " to " + where);
			TcAttached tc = tc_attach_filter(prog_fd, t.ifindex, ingress, "attach " + program + " to " + where);
			a->tc_legacy_ = true;
			a->tc_qdisc_ours_ = tc.qdisc_ours;
			a->tc_ = tc.ref;
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
	if (tc_legacy_)
		tc_release_filter(tc_, tc_qdisc_ours_);
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

} // namespace core

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
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <map>
#include <mutex>
#include <sys/socket.h>
#include <unistd.h>

#include "libbpf_log.h"
#include "listing.h"
#include "names.h"
#include "object.h"

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

// One rtnetlink dump of the traffic-control objects `tcm` selects (RTM_GETQDISC or RTM_GETTFILTER); calls
// each(message) for every answer. Returns 0 or -errno.
template <typename Fn>
int tc_dump(uint16_t get, uint16_t answer, const struct tcmsg &tcm, Fn &&each)
{
	Fd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
	if (!sock)
		return -errno;
	struct {
		struct nlmsghdr nh;
		struct tcmsg tcm;
	} req;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	req.nh.nlmsg_type = get;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.tcm = tcm;
	struct sockaddr_nl kernel;
	memset(&kernel, 0, sizeof(kernel));
	kernel.nl_family = AF_NETLINK;
	if (sendto(sock.get(), &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	// The kernel sizes dump messages to the reader's buffer, up to 32 KiB.
	std::vector<char> buf(64 << 10);
	for (;;) {
		ssize_t n = recv(sock.get(), buf.data(), buf.size(), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		int len = (int)n;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf.data(); NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
			if (nh->nlmsg_type == answer && nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct tcmsg)))
				each(nh);
		}
	}
}

// The attributes of one level (top-level TCA_* or nested options), indexed by type up to max.
void tc_attrs(struct rtattr **tb, int max, struct rtattr *rta, int len)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		int type = rta->rta_type & NLA_TYPE_MASK;
		if (type <= max)
			tb[type] = rta;
	}
}

std::string tc_attr_string(const struct rtattr *rta)
{
	if (!rta || RTA_PAYLOAD(rta) == 0)
		return "";
	return std::string((const char *)RTA_DATA(rta), strnlen((const char *)RTA_DATA(rta), RTA_PAYLOAD(rta)));
}

// Clsact qdiscs this process created, with how many of our netlink filters sit on each: the last of them
// to leave removes the qdisc if nothing else is on it. A qdisc that was there before is never ours.
std::mutex clsact_mutex;
std::map<int, int> our_clsact;

bool force_netlink()
{
	// For tests on kernels that have tcx (6.6+): the netlink path is otherwise only taken on older ones.
	const char *v = getenv("EBPF_STUDIO_FORCE_TC_NETLINK");
	return v && strcmp(v, "1") == 0;
}

void destroy_clsact_if_empty(int ifindex, TcDetachResult &res)
{
	TcClsact q = tc_clsact(ifindex);
	if (!q.present || !q.empty)
		return;
	struct bpf_tc_hook hook;
	memset(&hook, 0, sizeof(hook));
	hook.sz = sizeof(hook);
	hook.ifindex = ifindex;
	hook.attach_point = (enum bpf_tc_attach_point)(BPF_TC_INGRESS | BPF_TC_EGRESS);
	res.qdisc_removed = bpf_tc_hook_destroy(&hook) == 0;
}

} // namespace

TcClsact tc_clsact(int ifindex)
{
	TcClsact q;
	struct tcmsg tcm;
	memset(&tcm, 0, sizeof(tcm));
	tcm.tcm_family = AF_UNSPEC;
	tcm.tcm_ifindex = ifindex;
	int err = tc_dump(RTM_GETQDISC, RTM_NEWQDISC, tcm, [&](struct nlmsghdr *nh) {
		auto *t = (struct tcmsg *)NLMSG_DATA(nh);
		struct rtattr *tb[TCA_MAX + 1];
		tc_attrs(tb, TCA_MAX, TCA_RTA(t), nh->nlmsg_len - NLMSG_LENGTH(sizeof(*t)));
		if (t->tcm_ifindex == ifindex && tc_attr_string(tb[TCA_KIND]) == "clsact")
			q.present = true;
	});
	if (err)
		fail(-err, "list the qdiscs of " + ifname_of(ifindex));
	if (!q.present)
		return q;
	bool empty = true;
	for (bool ingress : {true, false}) {
		tcm.tcm_parent = TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
		err = tc_dump(RTM_GETTFILTER, RTM_NEWTFILTER, tcm, [&](struct nlmsghdr *nh) {
			// Any answer, even a classifier's own line without a filter handle, means "not empty".
			empty = false;
			auto *t = (struct tcmsg *)NLMSG_DATA(nh);
			if (t->tcm_handle == 0)
				return;
			struct rtattr *tb[TCA_MAX + 1];
			tc_attrs(tb, TCA_MAX, TCA_RTA(t), nh->nlmsg_len - NLMSG_LENGTH(sizeof(*t)));
			TcFilter f;
			f.ingress = ingress;
			f.handle = t->tcm_handle;
			f.priority = TC_H_MAJ(t->tcm_info) >> 16;
			f.kind = tc_attr_string(tb[TCA_KIND]);
			if (f.kind == "bpf" && tb[TCA_OPTIONS]) {
				struct rtattr *opt[TCA_BPF_MAX + 1];
				tc_attrs(opt, TCA_BPF_MAX, (struct rtattr *)RTA_DATA(tb[TCA_OPTIONS]),
					 RTA_PAYLOAD(tb[TCA_OPTIONS]));
				if (opt[TCA_BPF_ID] && RTA_PAYLOAD(opt[TCA_BPF_ID]) >= sizeof(uint32_t))
					memcpy(&f.prog_id, RTA_DATA(opt[TCA_BPF_ID]), sizeof(uint32_t));
				f.name = tc_attr_string(opt[TCA_BPF_NAME]);
			}
			q.filters.push_back(f);
		});
		if (err)
			fail(-err, "list the tc filters of " + ifname_of(ifindex));
	}
	q.empty = empty;
	return q;
}

TcDetachResult tc_detach_filter(const TcFilterRef &f, bool destroy_qdisc_if_empty)
{
	TcDetachResult res;
	struct bpf_tc_hook hook;
	memset(&hook, 0, sizeof(hook));
	hook.sz = sizeof(hook);
	hook.ifindex = f.ifindex;
	hook.attach_point = f.ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
	struct bpf_tc_opts o;
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.handle = f.handle;
	o.priority = f.priority;
	// bpf_tc_query and bpf_tc_detach take only handle and priority: the program is checked in between.
	if (bpf_tc_query(&hook, &o) == 0 && o.prog_id == f.prog_id) {
		memset(&o, 0, sizeof(o));
		o.sz = sizeof(o);
		o.handle = f.handle;
		o.priority = f.priority;
		res.removed = bpf_tc_detach(&hook, &o) == 0;
	}
	if (destroy_qdisc_if_empty) {
		try {
			destroy_clsact_if_empty(f.ifindex, res);
		} catch (const Error &) {
			// Unsure what is on it (the interface may be gone): the qdisc stays.
		}
	}
	return res;
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
			struct bpf_tc_hook hook;
			memset(&hook, 0, sizeof(hook));
			hook.sz = sizeof(hook);
			hook.ifindex = t.ifindex;
			hook.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
			std::lock_guard<std::mutex> lock(clsact_mutex);
			// -EEXIST: a clsact qdisc was there already (another tool's, or ours): only one we create is ours.
			int r = bpf_tc_hook_create(&hook);
			if (r && r != -EEXIST)
				fail(-r, "attach " + program + " to " + where + ": create clsact qdisc");
			if (r == 0)
				our_clsact.emplace(t.ifindex, 0);
			bool ours = our_clsact.count(t.ifindex) > 0;
			struct bpf_tc_opts o;
			memset(&o, 0, sizeof(o));
			o.sz = sizeof(o);
			o.prog_fd = prog_fd;
			r = bpf_tc_attach(&hook, &o);
			if (r) {
				if (ours && our_clsact[t.ifindex] == 0) {
					our_clsact.erase(t.ifindex);
					TcDetachResult ignored;
					try {
						destroy_clsact_if_empty(t.ifindex, ignored);
					} catch (const Error &) {
						// Unsure what is on it: it stays.
					}
				}
				fail(-r, "attach " + program + " to " + where);
			}
			if (ours)
				our_clsact[t.ifindex]++;
			if (o.prog_id == 0) {
				struct bpf_prog_info info;
				__u32 len = sizeof(info);
				memset(&info, 0, sizeof(info));
				if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0)
					o.prog_id = info.id;
			}
			a->tc_legacy_ = true;
			a->tc_qdisc_ours_ = ours;
			a->tc_.ifindex = t.ifindex;
			a->tc_.ingress = ingress;
			a->tc_.handle = o.handle;
			a->tc_.priority = o.priority;
			a->tc_.prog_id = o.prog_id;
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
	if (tc_legacy_) {
		bool last_of_ours = false;
		if (tc_qdisc_ours_) {
			std::lock_guard<std::mutex> lock(clsact_mutex);
			auto it = our_clsact.find(tc_.ifindex);
			if (it != our_clsact.end() && --it->second <= 0) {
				our_clsact.erase(it);
				last_of_ours = true;
			}
		}
		// Another tool's filters on the qdisc keep it: only an empty one that we created is removed.
		tc_detach_filter(tc_, last_of_ours);
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

} // namespace core

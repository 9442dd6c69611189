// Core layer: tc filters over netlink (before tcx links): clsact qdisc ownership, filter attach, query and
// detach through libbpf's bpf_tc_* calls, and the rtnetlink dump of a clsact qdisc's filters.
#include "tc_netlink.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <map>
#include <mutex>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"
#include "names.h"

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

TcAttached tc_attach_filter(int prog_fd, int ifindex, bool ingress, const std::string &what)
{
	struct bpf_tc_hook hook;
	memset(&hook, 0, sizeof(hook));
	hook.sz = sizeof(hook);
	hook.ifindex = ifindex;
	hook.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
	std::lock_guard<std::mutex> lock(clsact_mutex);
	// -EEXIST: a clsact qdisc was there already (another tool's, or ours): only one we create is ours.
	int r = bpf_tc_hook_create(&hook);
	if (r && r != -EEXIST)
		fail(-r, what + ": create clsact qdisc");
	if (r == 0)
		our_clsact.emplace(ifindex, 0);
	bool ours = our_clsact.count(ifindex) > 0;
	struct bpf_tc_opts o;
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.prog_fd = prog_fd;
	r = bpf_tc_attach(&hook, &o);
	if (r) {
		if (ours && our_clsact[ifindex] == 0) {
			our_clsact.erase(ifindex);
			TcDetachResult ignored;
			try {
				destroy_clsact_if_empty(ifindex, ignored);
			} catch (const Error &) {
				// Unsure what is on it: it stays.
			}
		}
		fail(-r, what);
	}
	if (ours)
		our_clsact[ifindex]++;
	if (o.prog_id == 0) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0)
			o.prog_id = info.id;
	}
	TcAttached a;
	a.qdisc_ours = ours;
	a.ref.ifindex = ifindex;
	a.ref.ingress = ingress;
	a.ref.handle = o.handle;
	a.ref.priority = o.priority;
	a.ref.prog_id = o.prog_id;
	return a;
}

void tc_release_filter(const TcFilterRef &f, bool qdisc_ours)
{
	bool last_of_ours = false;
	if (qdisc_ours) {
		std::lock_guard<std::mutex> lock(clsact_mutex);
		auto it = our_clsact.find(f.ifindex);
		if (it != our_clsact.end() && --it->second <= 0) {
			our_clsact.erase(it);
			last_of_ours = true;
		}
	}
	// Another tool's filters on the qdisc keep it: only an empty one that we created is removed.
	tc_detach_filter(f, last_of_ours);
}

} // namespace core

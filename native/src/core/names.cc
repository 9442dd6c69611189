// Core layer: kernel enum names backed by a table of values newer than the installed libbpf.
#include "names.h"

#include <bpf/libbpf.h>
#include <cstdio>
#include <map>
#include <net/if.h>

namespace core {

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

std::string ifname_of(int ifindex)
{
	char buf[IF_NAMESIZE] = {};
	if (if_indextoname(ifindex, buf))
		return buf;
	return "ifindex " + std::to_string(ifindex);
}

std::string libbpf_version()
{
	return std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version());
}

std::string byte_size(uint64_t bytes)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = bytes;
	int u = 0;
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	char buf[32];
	if (u == 0 || v == (uint64_t)v)
		snprintf(buf, sizeof(buf), "%llu %s", (unsigned long long)v, units[u]);
	else
		snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
	return buf;
}

} // namespace core

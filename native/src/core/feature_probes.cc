// Core layer: feature probes. Both ask the kernel for real (libbpf creates the map or loads a tiny
// program calling the helper) and report the answer with its errno; the helper caches the results.
#include "feature_probes.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <linux/bpf.h>

#include "errors.h"

namespace core {

namespace {

struct HelperName {
	const char *name;
	int id;
};

// The helpers Check System lists: those the samples and typical programs of each kind rely on.
#define HELPER(x) {#x, BPF_FUNC_##x}
const HelperName kHelpers[] = {
	HELPER(map_lookup_elem),     HELPER(ringbuf_output),	  HELPER(ringbuf_reserve),
	HELPER(perf_event_output),   HELPER(probe_read_kernel),	  HELPER(probe_read_user),
	HELPER(get_current_task),    HELPER(get_current_task_btf), HELPER(get_current_cgroup_id),
	HELPER(ktime_get_ns),	     HELPER(ktime_get_boot_ns),	  HELPER(trace_printk),
	HELPER(get_stackid),	     HELPER(skb_load_bytes),	  HELPER(skb_cgroup_id),
	HELPER(xdp_adjust_head),     HELPER(redirect),		  HELPER(redirect_map),
	HELPER(fib_lookup),	     HELPER(d_path),		  HELPER(send_signal),
	HELPER(override_return),     HELPER(loop),		  HELPER(get_func_ip),
	HELPER(sk_storage_get),	     HELPER(task_storage_get),	  HELPER(probe_write_user),
};
#undef HELPER

template <typename Enum>
bool enum_by_name(const std::string &name, const char *(*to_str)(Enum), int limit, Enum *out)
{
	for (int i = 0; i < limit; i++) {
		const char *s = to_str(static_cast<Enum>(i));
		if (s && name == s) {
			*out = static_cast<Enum>(i);
			return true;
		}
	}
	return false;
}

} // namespace

std::vector<std::string> probe_helper_names()
{
	std::vector<std::string> names;
	for (const auto &h : kHelpers)
		names.push_back(h.name);
	return names;
}

// 1: supported; 0: the kernel does not know it; negative: -errno of the refusal.
int probe_map_type(const std::string &type)
{
	enum bpf_map_type t;
	if (!enum_by_name<enum bpf_map_type>(type, libbpf_bpf_map_type_str, 64, &t))
		throw Error(EINVAL, "unknown map type \"" + type + "\"");
	return libbpf_probe_bpf_map_type(t, nullptr);
}

int probe_helper(const std::string &prog_type, const std::string &helper)
{
	enum bpf_prog_type t;
	if (!enum_by_name<enum bpf_prog_type>(prog_type, libbpf_bpf_prog_type_str, 64, &t))
		throw Error(EINVAL, "unknown program type \"" + prog_type + "\"");
	for (const auto &h : kHelpers)
		if (helper == h.name)
			return libbpf_probe_bpf_helper(t, static_cast<enum bpf_func_id>(h.id), nullptr);
	throw Error(EINVAL, "unknown helper \"" + helper + "\"");
}

} // namespace core

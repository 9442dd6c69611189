// N-API layer: kernel-wide functions: listing programs, maps and links, run-time stats, opening maps
// by id or pin, pinned objects, test runs; and the addon's limits.
#include "../core/limits.h"
#include "../core/listing.h"
#include "../core/maps.h"
#include "../core/pins.h"
#include "../core/tc_netlink.h"
#include "../core/test_run.h"
#include "binding.h"

namespace binding {
namespace {

Napi::Value list_programs(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto progs = guarded(env, [] { return core::list_programs(); });
	return to_js_array(env, progs, [](Napi::Env env, const core::ProgramInfo &p) {
		Napi::Object o = Napi::Object::New(env);
		o.Set("id", p.id);
		o.Set("name", p.name);
		o.Set("type", p.type);
		o.Set("tag", p.tag);
		o.Set("mapIds", to_js_array(env, p.map_ids));
		o.Set("loadTimeNs", Napi::Number::New(env, (double)p.load_time_ns));
		o.Set("uid", p.uid);
		o.Set("runCount", Napi::Number::New(env, (double)p.run_count));
		o.Set("runTimeNs", Napi::Number::New(env, (double)p.run_time_ns));
		o.Set("recursionMisses", Napi::Number::New(env, (double)p.recursion_misses));
		o.Set("verifiedInsns", p.verified_insns);
		o.Set("xlatedBytes", p.xlated_bytes);
		o.Set("jitedBytes", p.jited_bytes);
		o.Set("btfId", p.btf_id);
		o.Set("gplCompatible", p.gpl_compatible);
		return o;
	});
}

Napi::Value list_maps(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto maps = guarded(env, [] { return core::list_maps(); });
	return to_js_array(env, maps, map_info_to_js);
}

Napi::Value list_links(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto links = guarded(env, [] { return core::list_links(); });
	return to_js_array(env, links, [](Napi::Env env, const core::LinkInfo &l) {
		Napi::Object o = Napi::Object::New(env);
		o.Set("id", l.id);
		o.Set("type", l.type);
		o.Set("progId", l.prog_id);
		o.Set("target", l.target);
		if (l.has_ifindex)
			o.Set("ifindex", l.ifindex);
		if (l.has_cgroup_id)
			o.Set("cgroupId", Napi::Number::New(env, (double)l.cgroup_id));
		if (l.has_attach_type)
			o.Set("attachType", l.attach_type);
		return o;
	});
}

Napi::Value enable_stats(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	int fd = guarded(env, [] { return core::enable_stats(); });
	core::Fd guard(fd);
	Napi::Object o = addon_data(env).stats.New({Napi::External<int>::New(env, &fd)});
	guard.release();
	return o;
}

Napi::Value new_map_handle(Napi::Env env, std::unique_ptr<core::MapHandle> m)
{
	return addon_data(env).map_handle.New(
		{Napi::External<std::unique_ptr<core::MapHandle>>::New(env, &m)});
}

Napi::Value open_map(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint32_t id = get_u32(env, info[0], "Usage: openMap(id: number)");
	return new_map_handle(env, guarded(env, [&] { return core::MapHandle::open_id(id); }));
}

Napi::Value open_pinned_map(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = get_string(env, info[0], "Usage: openPinnedMap(path: string)");
	return new_map_handle(env, guarded(env, [&] { return core::MapHandle::open_pinned(path); }));
}

Napi::Value pinned_object_info(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = get_string(env, info[0], "Usage: pinnedObjectInfo(path: string)");
	core::PinnedInfo pi = guarded(env, [&] { return core::pinned_object_info(path); });
	Napi::Object o = Napi::Object::New(env);
	o.Set("kind", pi.kind);
	o.Set("id", pi.id);
	return o;
}

void unpin(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = get_string(env, info[0], "Usage: unpin(path: string)");
	guarded(env, [&] { core::unpin(path); });
}

Napi::Value test_run(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	const char *usage = "Usage: testRun(progId: number, dataIn: Buffer, repeat: number)";
	uint32_t id = get_u32(env, info[0], usage);
	Napi::Buffer<uint8_t> data = get_buffer(env, info[1], usage);
	uint32_t repeat = get_u32(env, info[2], usage);
	core::TestRunResult r =
		guarded(env, [&] { return core::test_run(id, data.Data(), data.Length(), repeat); });
	Napi::Object o = Napi::Object::New(env);
	o.Set("retval", Napi::Number::New(env, (double)r.retval));
	o.Set("dataOut", to_buffer(env, r.data_out));
	o.Set("durationNs", r.duration_ns);
	return o;
}

} // namespace

Napi::Value limits(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Object o = Napi::Object::New(env);
	o.Set("pageBytes", Napi::Number::New(env, (double)core::kMaxPageBytes));
	o.Set("bucketPageBytes", Napi::Number::New(env, (double)core::kMaxBucketPageBytes));
	o.Set("overridePreallocBytes", Napi::Number::New(env, (double)core::kMaxOverridePreallocBytes));
	o.Set("verifierLogBytes", Napi::Number::New(env, (double)core::kMaxVerifierLogBytes));
	o.Set("perfPagesPerCpu", Napi::Number::New(env, core::kMaxPerfPagesPerCpu));
	o.Set("btfTreeNodes", Napi::Number::New(env, (double)core::kBtfTreeNodes));
	o.Set("btfCallNodes", Napi::Number::New(env, (double)core::kBtfCallNodes));
	o.Set("structTypes", Napi::Number::New(env, (double)core::kMaxStructs));
	return o;
}

// tcClsact(ifindex): the interface's clsact qdisc and its filters, or null when it has none.
Napi::Value tc_clsact(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	int ifindex = (int)get_u32(env, info[0], "Usage: tcClsact(ifindex: number)");
	core::TcClsact q = guarded(env, [&] { return core::tc_clsact(ifindex); });
	if (!q.present)
		return env.Null();
	Napi::Object o = Napi::Object::New(env);
	o.Set("empty", q.empty);
	o.Set("filters", to_js_array(env, q.filters, [](Napi::Env env, const core::TcFilter &f) {
		      Napi::Object fo = Napi::Object::New(env);
		      fo.Set("direction", f.ingress ? "ingress" : "egress");
		      fo.Set("handle", f.handle);
		      fo.Set("priority", f.priority);
		      fo.Set("kind", f.kind);
		      fo.Set("progId", f.prog_id);
		      fo.Set("name", f.name);
		      return fo;
	      }));
	return o;
}

const char *kTcDetachUsage = "Usage: tcDetachFilter(filter: {ifindex: number, direction: 'ingress'|'egress', "
			     "handle: number, priority: number, progId: number}, destroyQdiscIfEmpty: boolean)";

// tcDetachFilter(filter, destroyQdiscIfEmpty): removes a netlink filter recorded by an earlier helper.
Napi::Value tc_detach_filter(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsObject() || !info[1].IsBoolean())
		type_error(env, kTcDetachUsage);
	Napi::Object o = info[0].As<Napi::Object>();
	core::TcFilterRef f;
	f.ifindex = (int)get_u32(env, o.Get("ifindex"), kTcDetachUsage);
	std::string direction = get_string(env, o.Get("direction"), kTcDetachUsage);
	if (direction != "ingress" && direction != "egress")
		type_error(env, kTcDetachUsage);
	f.ingress = direction == "ingress";
	f.handle = get_u32(env, o.Get("handle"), kTcDetachUsage);
	f.priority = get_u32(env, o.Get("priority"), kTcDetachUsage);
	f.prog_id = get_u32(env, o.Get("progId"), kTcDetachUsage);
	bool destroy = info[1].As<Napi::Boolean>().Value();
	core::TcDetachResult r = guarded(env, [&] { return core::tc_detach_filter(f, destroy); });
	Napi::Object out = Napi::Object::New(env);
	out.Set("removed", r.removed);
	out.Set("qdiscRemoved", r.qdisc_removed);
	return out;
}

void register_kernel_functions(Napi::Env env, Napi::Object exports)
{
	export_fn<list_programs>(env, exports, "listPrograms");
	export_fn<list_maps>(env, exports, "listMaps");
	export_fn<list_links>(env, exports, "listLinks");
	export_fn<enable_stats>(env, exports, "enableStats");
	export_fn<open_map>(env, exports, "openMap");
	export_fn<open_pinned_map>(env, exports, "openPinnedMap");
	export_fn<pinned_object_info>(env, exports, "pinnedObjectInfo");
	export_fn<unpin>(env, exports, "unpin");
	export_fn<test_run>(env, exports, "testRun");
	export_fn<tc_clsact>(env, exports, "tcClsact");
	export_fn<tc_detach_filter>(env, exports, "tcDetachFilter");
}

} // namespace binding

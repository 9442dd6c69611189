// JS entry points: argument checks and marshalling only. The work is in bpf_core.cc; blocking
// work is in *_worker.cc.
#include <cstring>
#include <unistd.h>

#include "napi_util.h"

namespace binding {

// ---- helpers -----------------------------------------------------------------------------

Napi::Error to_js_error(Napi::Env env, int err, const std::string &msg)
{
	Napi::Error e = Napi::Error::New(env, msg);
	e.Set("errno", Napi::Number::New(env, err));
	std::string code = core::errno_name(err);
	if (!code.empty())
		e.Set("code", Napi::String::New(env, code));
	return e;
}

Napi::Error to_js_error(Napi::Env env, const core::Error &e)
{
	return to_js_error(env, e.err(), e.what());
}

Napi::Buffer<uint8_t> to_buffer(Napi::Env env, const std::vector<uint8_t> &v)
{
	// Copy, not external memory: Electron's V8 sandbox refuses external buffers.
	return Napi::Buffer<uint8_t>::Copy(env, v.data(), v.size());
}

AddonData &addon_data(Napi::Env env)
{
	return *env.GetInstanceData<AddonData>();
}

namespace {

[[noreturn]] void type_error(Napi::Env env, const std::string &msg)
{
	throw Napi::TypeError::New(env, msg);
}

std::string get_string(Napi::Env env, Napi::Value v, const char *usage)
{
	if (!v.IsString())
		type_error(env, usage);
	return v.As<Napi::String>().Utf8Value();
}

uint32_t get_u32(Napi::Env env, Napi::Value v, const char *usage)
{
	if (!v.IsNumber())
		type_error(env, usage);
	double d = v.As<Napi::Number>().DoubleValue();
	if (d < 0 || d > 4294967295.0 || d != (double)(uint32_t)d)
		type_error(env, usage);
	return (uint32_t)d;
}

Napi::Buffer<uint8_t> get_buffer(Napi::Env env, Napi::Value v, const char *usage)
{
	if (!v.IsBuffer())
		type_error(env, usage);
	return v.As<Napi::Buffer<uint8_t>>();
}

// Optional property: undefined -> fallback.
Napi::Value prop(Napi::Object o, const char *name)
{
	return o.Get(name);
}

Napi::Object btf_member_to_js(Napi::Env env, const core::BtfMemberNode &m)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("name", m.name);
	o.Set("bitOffset", m.bit_offset);
	o.Set("bitSize", m.bit_size);
	o.Set("type", btf_to_js(env, m.type));
	return o;
}

} // namespace

Napi::Value btf_to_js(Napi::Env env, const core::BtfNode &n)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("kind", n.kind);
	if (n.kind == "void")
		return o;
	if (n.kind == "ptr") {
		o.Set("size", n.size);
		o.Set("target", n.target_name);
		return o;
	}
	if (n.kind == "array") {
		o.Set("size", n.size);
		o.Set("elem", n.child.empty() ? Napi::Object::New(env) : btf_to_js(env, n.child[0]));
		o.Set("length", n.length);
		return o;
	}
	o.Set("name", n.name);
	o.Set("size", n.size);
	if (n.kind == "int") {
		o.Set("signed", n.is_signed);
		o.Set("char", n.is_char);
		o.Set("bool", n.is_bool);
		o.Set("bits", n.bits);
	} else if (n.kind == "struct" || n.kind == "union") {
		o.Set("members", to_js_array(env, n.members, btf_member_to_js));
	} else if (n.kind == "enum") {
		o.Set("signed", n.is_signed);
		o.Set("values", to_js_array(env, n.values, [](Napi::Env env, const core::BtfEnumValue &e) {
			Napi::Object v = Napi::Object::New(env);
			v.Set("name", e.name);
			v.Set("value", Napi::Number::New(env, (double)e.value));
			return v;
		}));
	} else if (n.kind == "typedef") {
		o.Set("target", n.child.empty() ? Napi::Object::New(env) : btf_to_js(env, n.child[0]));
	}
	return o;
}

// ---- handles -----------------------------------------------------------------------------
namespace {

// What a handle class is constructed with: an External made by the addon; JS cannot construct one.
template <typename T>
T &external_arg(const Napi::CallbackInfo &info, const char *usage)
{
	if (!info[0].IsExternal())
		type_error(info.Env(), usage);
	return *info[0].As<Napi::External<T>>().Data();
}

[[noreturn]] void closed_error(Napi::Env env)
{
	throw to_js_error(env, EBADF, "handle is closed");
}

class AttachmentWrap : public Napi::ObjectWrap<AttachmentWrap> {
public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "Attachment",
				   {InstanceAccessor<&AttachmentWrap::link_id>("linkId"),
				    InstanceAccessor<&AttachmentWrap::kind>("kind"),
				    InstanceAccessor<&AttachmentWrap::description>("description"),
				    InstanceMethod<&AttachmentWrap::pin>("pin"),
				    InstanceMethod<&AttachmentWrap::detach>("detach")});
	}
	AttachmentWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<AttachmentWrap>(info)
	{
		a_ = external_arg<std::shared_ptr<core::Attachment>>(
			info, "Attachment cannot be constructed; use LoadedObject.attach()");
	}

private:
	Napi::Value link_id(const Napi::CallbackInfo &info) { return Napi::Number::New(Env(), a_->link_id()); }
	Napi::Value kind(const Napi::CallbackInfo &info) { return Napi::String::New(Env(), a_->kind()); }
	Napi::Value description(const Napi::CallbackInfo &info)
	{
		return Napi::String::New(Env(), a_->description());
	}
	void pin(const Napi::CallbackInfo &info)
	{
		std::string path = get_string(Env(), info[0], "Usage: attachment.pin(path: string)");
		guarded(Env(), [&] { a_->pin(path); });
	}
	void detach(const Napi::CallbackInfo &info) { a_->detach(); }

	std::shared_ptr<core::Attachment> a_;
};

const char *kAttachUsage =
	"Usage: attach(program: string, target: {kind: 'auto'} | {kind: 'tracepoint', category: string, "
	"name: string} | {kind: 'raw_tracepoint', name: string} | {kind: 'uprobe', binary: string, "
	"func?: string, offset?: number, pid?: number, retprobe: boolean} | {kind: 'xdp', ifindex: number, "
	"mode?: 'skb'|'drv'|'hw'} | {kind: 'tc', ifindex: number, direction: 'ingress'|'egress'} | "
	"{kind: 'cgroup', path: string} | {kind: 'socket', ifindex: number})";

core::AttachTarget parse_target(Napi::Env env, Napi::Value v)
{
	if (!v.IsObject())
		type_error(env, kAttachUsage);
	Napi::Object o = v.As<Napi::Object>();
	core::AttachTarget t;
	t.kind = get_string(env, prop(o, "kind"), kAttachUsage);
	if (t.kind == "auto") {
	} else if (t.kind == "tracepoint") {
		t.category = get_string(env, prop(o, "category"), kAttachUsage);
		t.name = get_string(env, prop(o, "name"), kAttachUsage);
	} else if (t.kind == "raw_tracepoint") {
		t.name = get_string(env, prop(o, "name"), kAttachUsage);
	} else if (t.kind == "uprobe") {
		t.binary = get_string(env, prop(o, "binary"), kAttachUsage);
		if (!prop(o, "func").IsUndefined())
			t.func = get_string(env, prop(o, "func"), kAttachUsage);
		Napi::Value off = prop(o, "offset");
		if (!off.IsUndefined()) {
			if (!off.IsNumber() || off.As<Napi::Number>().DoubleValue() < 0)
				type_error(env, kAttachUsage);
			t.offset = (uint64_t)off.As<Napi::Number>().DoubleValue();
		}
		Napi::Value pid = prop(o, "pid");
		if (!pid.IsUndefined()) {
			if (!pid.IsNumber())
				type_error(env, kAttachUsage);
			t.pid = pid.As<Napi::Number>().Int32Value();
		}
		Napi::Value ret = prop(o, "retprobe");
		if (!ret.IsUndefined() && !ret.IsBoolean())
			type_error(env, kAttachUsage);
		t.retprobe = ret.IsBoolean() && ret.As<Napi::Boolean>().Value();
	} else if (t.kind == "xdp") {
		t.ifindex = get_u32(env, prop(o, "ifindex"), kAttachUsage);
		if (!prop(o, "mode").IsUndefined()) {
			t.mode = get_string(env, prop(o, "mode"), kAttachUsage);
			if (t.mode != "skb" && t.mode != "drv" && t.mode != "hw")
				type_error(env, kAttachUsage);
		}
	} else if (t.kind == "tc") {
		t.ifindex = get_u32(env, prop(o, "ifindex"), kAttachUsage);
		t.direction = get_string(env, prop(o, "direction"), kAttachUsage);
		if (t.direction != "ingress" && t.direction != "egress")
			type_error(env, kAttachUsage);
	} else if (t.kind == "cgroup") {
		t.path = get_string(env, prop(o, "path"), kAttachUsage);
	} else if (t.kind == "socket") {
		t.ifindex = get_u32(env, prop(o, "ifindex"), kAttachUsage);
	} else {
		type_error(env, kAttachUsage);
	}
	return t;
}

class LoadedObjectWrap : public Napi::ObjectWrap<LoadedObjectWrap> {
public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "LoadedObject",
				   {InstanceAccessor<&LoadedObjectWrap::name>("name"),
				    InstanceMethod<&LoadedObjectWrap::programs>("programs"),
				    InstanceMethod<&LoadedObjectWrap::maps>("maps"),
				    InstanceMethod<&LoadedObjectWrap::attach>("attach"),
				    InstanceMethod<&LoadedObjectWrap::pin_program>("pinProgram"),
				    InstanceMethod<&LoadedObjectWrap::pin_map>("pinMap"),
				    InstanceMethod<&LoadedObjectWrap::close>("close")});
	}
	LoadedObjectWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<LoadedObjectWrap>(info)
	{
		obj_ = std::move(external_arg<std::unique_ptr<core::Object>>(
			info, "LoadedObject cannot be constructed; use loadObject()"));
		name_ = obj_->name();
	}

private:
	core::Object &object()
	{
		if (!obj_)
			closed_error(Env());
		return *obj_;
	}

	Napi::Value name(const Napi::CallbackInfo &info) { return Napi::String::New(Env(), name_); }

	Napi::Value programs(const Napi::CallbackInfo &info)
	{
		auto progs = guarded(Env(), [&] { return object().programs(); });
		return to_js_array(Env(), progs, [](Napi::Env env, const core::LoadedProgram &p) {
			Napi::Object o = Napi::Object::New(env);
			o.Set("name", p.name);
			o.Set("section", p.section);
			o.Set("type", p.type);
			o.Set("id", p.id);
			o.Set("fd", p.fd);
			return o;
		});
	}

	Napi::Value maps(const Napi::CallbackInfo &info)
	{
		auto maps = guarded(Env(), [&] { return object().maps(); });
		return to_js_array(Env(), maps, [](Napi::Env env, const core::LoadedMap &m) {
			Napi::Object o = Napi::Object::New(env);
			o.Set("name", m.name);
			o.Set("type", m.type);
			o.Set("id", m.id);
			o.Set("fd", m.fd);
			o.Set("keySize", m.key_size);
			o.Set("valueSize", m.value_size);
			o.Set("maxEntries", m.max_entries);
			o.Set("internal", m.internal);
			return o;
		});
	}

	Napi::Value attach(const Napi::CallbackInfo &info)
	{
		core::Object &obj = object();
		std::string prog = get_string(Env(), info[0], kAttachUsage);
		core::AttachTarget t = parse_target(Env(), info[1]);
		std::shared_ptr<core::Attachment> a = guarded(Env(), [&] { return obj.attach(prog, t); });
		return addon_data(Env()).attachment.New(
			{Napi::External<std::shared_ptr<core::Attachment>>::New(Env(), &a)});
	}

	void pin_program(const Napi::CallbackInfo &info)
	{
		const char *usage = "Usage: pinProgram(program: string, path: string)";
		core::Object &obj = object();
		std::string prog = get_string(Env(), info[0], usage);
		std::string path = get_string(Env(), info[1], usage);
		guarded(Env(), [&] { obj.pin_program(prog, path); });
	}

	void pin_map(const Napi::CallbackInfo &info)
	{
		const char *usage = "Usage: pinMap(map: string, path: string)";
		core::Object &obj = object();
		std::string map = get_string(Env(), info[0], usage);
		std::string path = get_string(Env(), info[1], usage);
		guarded(Env(), [&] { obj.pin_map(map, path); });
	}

	void close(const Napi::CallbackInfo &info) { obj_.reset(); }

	std::unique_ptr<core::Object> obj_;
	std::string name_;
};

class MapHandleWrap : public Napi::ObjectWrap<MapHandleWrap> {
public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "MapHandle",
				   {InstanceAccessor<&MapHandleWrap::info>("info"),
				    InstanceAccessor<&MapHandleWrap::user_value_size>("userValueSize"),
				    InstanceMethod<&MapHandleWrap::lookup>("lookup"),
				    InstanceMethod<&MapHandleWrap::update>("update"),
				    InstanceMethod<&MapHandleWrap::remove>("delete"),
				    InstanceMethod<&MapHandleWrap::next_key>("nextKey"),
				    InstanceMethod<&MapHandleWrap::lookup_batch>("lookupBatch"),
				    InstanceMethod<&MapHandleWrap::btf_types>("btfTypes"),
				    InstanceMethod<&MapHandleWrap::close>("close")});
	}
	MapHandleWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<MapHandleWrap>(info)
	{
		m_ = std::move(external_arg<std::unique_ptr<core::MapHandle>>(
			info, "MapHandle cannot be constructed; use openMap()"));
		info_ = m_->info();
		user_value_size_ = m_->user_value_size();
	}

	static Napi::Object map_info_to_js(Napi::Env env, const core::MapInfo &m)
	{
		Napi::Object o = Napi::Object::New(env);
		o.Set("id", m.id);
		o.Set("name", m.name);
		o.Set("type", m.type);
		o.Set("keySize", m.key_size);
		o.Set("valueSize", m.value_size);
		o.Set("maxEntries", m.max_entries);
		o.Set("flags", m.flags);
		o.Set("btfId", m.btf_id);
		o.Set("btfKeyTypeId", m.btf_key_type_id);
		o.Set("btfValueTypeId", m.btf_value_type_id);
		return o;
	}

private:
	core::MapHandle &map()
	{
		if (!m_ || m_->closed())
			closed_error(Env());
		return *m_;
	}

	Napi::Value info(const Napi::CallbackInfo &) { return map_info_to_js(Env(), info_); }
	Napi::Value user_value_size(const Napi::CallbackInfo &)
	{
		return Napi::Number::New(Env(), user_value_size_);
	}

	// Key buffers must match the map exactly; a zero-size key (queue, stack) is passed as NULL.
	const uint8_t *key_arg(Napi::Value v, const char *usage, bool nullable = false)
	{
		if (nullable && (v.IsNull() || v.IsUndefined()))
			return nullptr;
		Napi::Buffer<uint8_t> b = get_buffer(Env(), v, usage);
		if (b.Length() != info_.key_size)
			type_error(Env(), "key must be " + std::to_string(info_.key_size) + " bytes, got " +
						  std::to_string(b.Length()));
		return info_.key_size ? b.Data() : nullptr;
	}

	Napi::Value lookup(const Napi::CallbackInfo &info)
	{
		core::MapHandle &m = map();
		const uint8_t *key = key_arg(info[0], "Usage: lookup(key: Buffer)");
		std::vector<uint8_t> value;
		bool found = guarded(Env(), [&] { return m.lookup(key, value); });
		return found ? (Napi::Value)to_buffer(Env(), value) : Env().Null();
	}

	void update(const Napi::CallbackInfo &info)
	{
		const char *usage = "Usage: update(key: Buffer, value: Buffer, flags: number)";
		core::MapHandle &m = map();
		const uint8_t *key = key_arg(info[0], usage);
		Napi::Buffer<uint8_t> value = get_buffer(Env(), info[1], usage);
		if (value.Length() != user_value_size_)
			type_error(Env(), "value must be " + std::to_string(user_value_size_) + " bytes, got " +
						  std::to_string(value.Length()));
		uint32_t flags = info[2].IsUndefined() ? 0 : get_u32(Env(), info[2], usage);
		guarded(Env(), [&] { m.update(key, value.Data(), flags); });
	}

	Napi::Value remove(const Napi::CallbackInfo &info)
	{
		core::MapHandle &m = map();
		const uint8_t *key = key_arg(info[0], "Usage: delete(key: Buffer)");
		return Napi::Boolean::New(Env(), guarded(Env(), [&] { return m.remove(key); }));
	}

	Napi::Value next_key(const Napi::CallbackInfo &info)
	{
		core::MapHandle &m = map();
		const uint8_t *key = key_arg(info[0], "Usage: nextKey(key: Buffer | null)", true);
		std::vector<uint8_t> next;
		bool found = guarded(Env(), [&] { return m.next_key(key, next); });
		return found ? (Napi::Value)to_buffer(Env(), next) : Env().Null();
	}

	Napi::Value lookup_batch(const Napi::CallbackInfo &info)
	{
		const char *usage = "Usage: lookupBatch(maxCount: number, cursor?: Buffer)";
		core::MapHandle &m = map();
		uint32_t max = get_u32(Env(), info[0], usage);
		if (max == 0)
			type_error(Env(), usage);
		std::vector<uint8_t> cursor;
		bool has_cursor = !info[1].IsUndefined() && !info[1].IsNull();
		if (has_cursor) {
			Napi::Buffer<uint8_t> b = get_buffer(Env(), info[1], usage);
			cursor.assign(b.Data(), b.Data() + b.Length());
		}
		core::BatchRead r = guarded(Env(), [&] {
			return m.lookup_batch(max, has_cursor ? &cursor : nullptr);
		});
		Napi::Object o = Napi::Object::New(Env());
		o.Set("keys", to_buffer(Env(), r.keys));
		o.Set("values", to_buffer(Env(), r.values));
		o.Set("count", r.count);
		o.Set("next", r.has_next ? (Napi::Value)to_buffer(Env(), r.next) : Env().Undefined());
		return o;
	}

	Napi::Value btf_types(const Napi::CallbackInfo &info)
	{
		core::MapHandle &m = map();
		bool has_key = false, has_value = false;
		core::BtfNode key, value;
		guarded(Env(), [&] { m.btf_types(has_key, key, has_value, value); });
		Napi::Object o = Napi::Object::New(Env());
		o.Set("key", has_key ? btf_to_js(Env(), key) : Env().Null());
		o.Set("value", has_value ? btf_to_js(Env(), value) : Env().Null());
		return o;
	}

	void close(const Napi::CallbackInfo &info) { m_.reset(); }

	std::unique_ptr<core::MapHandle> m_;
	core::MapInfo info_;
	uint32_t user_value_size_ = 0;
};

class StatsWrap : public Napi::ObjectWrap<StatsWrap> {
public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "StatsHandle", {InstanceMethod<&StatsWrap::close>("close")});
	}
	StatsWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<StatsWrap>(info)
	{
		fd_.reset(external_arg<int>(info, "StatsHandle cannot be constructed; use enableStats()"));
	}

private:
	void close(const Napi::CallbackInfo &) { fd_.reset(); }
	core::Fd fd_;
};

// ---- module functions --------------------------------------------------------------------

Napi::Value libbpf_version(const Napi::CallbackInfo &info)
{
	return Napi::String::New(info.Env(), core::libbpf_version());
}

Napi::Value describe_object(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = get_string(env, info[0], "Usage: describeObject(path: string)");
	core::ObjectSpec s = guarded(env, [&] { return core::describe_object(path); });
	Napi::Object o = Napi::Object::New(env);
	o.Set("path", s.path);
	o.Set("name", s.name);
	o.Set("programs", to_js_array(env, s.programs, [](Napi::Env env, const core::ProgramSpec &p) {
		Napi::Object po = Napi::Object::New(env);
		po.Set("name", p.name);
		po.Set("section", p.section);
		po.Set("type", p.type);
		po.Set("expectedAttachType", p.expected_attach_type);
		po.Set("insnCount", Napi::Number::New(env, (double)p.insn_count));
		po.Set("autoload", p.autoload);
		return po;
	}));
	o.Set("maps", to_js_array(env, s.maps, [](Napi::Env env, const core::MapSpec &m) {
		Napi::Object mo = Napi::Object::New(env);
		mo.Set("name", m.name);
		mo.Set("type", m.type);
		mo.Set("keySize", m.key_size);
		mo.Set("valueSize", m.value_size);
		mo.Set("maxEntries", m.max_entries);
		mo.Set("internal", m.internal);
		return mo;
	}));
	o.Set("variables", to_js_array(env, s.variables, [](Napi::Env env, const core::VariableSpec &v) {
		Napi::Object vo = Napi::Object::New(env);
		vo.Set("name", v.name);
		vo.Set("section", v.section);
		vo.Set("offset", v.offset);
		vo.Set("size", v.size);
		vo.Set("type", btf_to_js(env, v.type));
		vo.Set("initial", to_buffer(env, v.initial));
		return vo;
	}));
	o.Set("structNames", to_js_array(env, s.struct_names));
	return o;
}

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
	return to_js_array(env, maps, MapHandleWrap::map_info_to_js);
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

Napi::Object load_outcome_to_js(Napi::Env env, core::LoadResult &res)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("programs", to_js_array(env, res.programs, [](Napi::Env env, const core::ProgramReport &p) {
		Napi::Object po = Napi::Object::New(env);
		po.Set("name", p.name);
		po.Set("section", p.section);
		po.Set("type", p.type);
		po.Set("loaded", p.loaded);
		po.Set("id", p.id);
		po.Set("log", p.log);
		return po;
	}));
	o.Set("libbpfLog", res.libbpf_log);
	if (res.ok) {
		o.Set("object", addon_data(env).loaded_object.New(
					{Napi::External<std::unique_ptr<core::Object>>::New(env, &res.object)}));
	} else {
		Napi::Object e = Napi::Object::New(env);
		e.Set("errno", res.err);
		e.Set("message", res.message);
		if (!res.program.empty())
			e.Set("program", res.program);
		o.Set("error", e);
	}
	return o;
}

Napi::Object init(Napi::Env env, Napi::Object exports)
{
	AddonData *data = new AddonData();
	env.SetInstanceData(data);
	data->loaded_object = Napi::Persistent(LoadedObjectWrap::define(env));
	data->attachment = Napi::Persistent(AttachmentWrap::define(env));
	data->map_handle = Napi::Persistent(MapHandleWrap::define(env));
	data->stats = Napi::Persistent(StatsWrap::define(env));
	data->consumer = Napi::Persistent(define_consumer_class(env));

	exports.Set("libbpfVersion", Napi::Function::New<libbpf_version>(env, "libbpfVersion"));
	exports.Set("describeObject", Napi::Function::New<describe_object>(env, "describeObject"));
	exports.Set("loadObject", Napi::Function::New<load_object>(env, "loadObject"));
	exports.Set("listPrograms", Napi::Function::New<list_programs>(env, "listPrograms"));
	exports.Set("listMaps", Napi::Function::New<list_maps>(env, "listMaps"));
	exports.Set("listLinks", Napi::Function::New<list_links>(env, "listLinks"));
	exports.Set("enableStats", Napi::Function::New<enable_stats>(env, "enableStats"));
	exports.Set("openMap", Napi::Function::New<open_map>(env, "openMap"));
	exports.Set("openPinnedMap", Napi::Function::New<open_pinned_map>(env, "openPinnedMap"));
	exports.Set("pinnedObjectInfo", Napi::Function::New<pinned_object_info>(env, "pinnedObjectInfo"));
	exports.Set("unpin", Napi::Function::New<unpin>(env, "unpin"));
	exports.Set("consumeRingBuffer", Napi::Function::New<consume_ring_buffer>(env, "consumeRingBuffer"));
	exports.Set("consumePerfBuffer", Napi::Function::New<consume_perf_buffer>(env, "consumePerfBuffer"));
	exports.Set("updateMapWithObject", Napi::Function::New<update_map_with_object>(env, "updateMapWithObject"));
	exports.Set("testRun", Napi::Function::New<test_run>(env, "testRun"));
	exports.Set("objectStructTypes", Napi::Function::New<object_struct_types>(env, "objectStructTypes"));
	exports.Set("lookupBatchAsync", Napi::Function::New<lookup_batch_async>(env, "lookupBatchAsync"));
	exports.Set("programInstructions", Napi::Function::New<program_instructions>(env, "programInstructions"));
	register_feature_probes(env, exports);
	return exports;
}

} // namespace binding

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	return binding::init(env, exports);
}

NODE_API_MODULE(ebpf_studio, Init)

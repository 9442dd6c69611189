// N-API layer: LoadedObject (programs, maps, attach, pins, close) and Attachment handles, and the
// parsing of attach targets.
#include "../core/object.h"
#include "binding.h"

namespace binding {
namespace {

// Optional property: undefined when absent.
Napi::Value prop(Napi::Object o, const char *name)
{
	return o.Get(name);
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
				    InstanceAccessor<&AttachmentWrap::tc>("tc"),
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
	// A netlink tc filter: where it is (for the helper's record), undefined for every other attachment.
	Napi::Value tc(const Napi::CallbackInfo &info)
	{
		if (!a_->tc_netlink())
			return Env().Undefined();
		const core::TcFilterRef &f = a_->tc_ref();
		Napi::Object o = Napi::Object::New(Env());
		o.Set("ifindex", f.ifindex);
		o.Set("direction", f.ingress ? "ingress" : "egress");
		o.Set("handle", f.handle);
		o.Set("priority", f.priority);
		o.Set("progId", f.prog_id);
		o.Set("qdiscOurs", a_->tc_qdisc_ours());
		return o;
	}
	void pin(const Napi::CallbackInfo &info)
	{
		guarded(Env(), [&] {
			std::string path = get_string(Env(), info[0], "Usage: attachment.pin(path: string)");
			guarded(Env(), [&] { a_->pin(path); });
		});
	}
	void detach(const Napi::CallbackInfo &info)
	{
		guarded(Env(), [&] { a_->detach(); });
	}

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
		return guarded(Env(), [&]() -> Napi::Value {
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
		});
	}

	Napi::Value maps(const Napi::CallbackInfo &info)
	{
		return guarded(Env(), [&]() -> Napi::Value {
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
		});
	}

	Napi::Value attach(const Napi::CallbackInfo &info)
	{
		return guarded(Env(), [&]() -> Napi::Value {
			core::Object &obj = object();
			std::string prog = get_string(Env(), info[0], kAttachUsage);
			core::AttachTarget t = parse_target(Env(), info[1]);
			std::shared_ptr<core::Attachment> a = guarded(Env(), [&] { return obj.attach(prog, t); });
			return addon_data(Env()).attachment.New(
				{Napi::External<std::shared_ptr<core::Attachment>>::New(Env(), &a)});
		});
	}

	void pin_program(const Napi::CallbackInfo &info)
	{
		guarded(Env(), [&] {
			const char *usage = "Usage: pinProgram(program: string, path: string)";
			core::Object &obj = object();
			std::string prog = get_string(Env(), info[0], usage);
			std::string path = get_string(Env(), info[1], usage);
			guarded(Env(), [&] { obj.pin_program(prog, path); });
		});
	}

	void pin_map(const Napi::CallbackInfo &info)
	{
		guarded(Env(), [&] {
			const char *usage = "Usage: pinMap(map: string, path: string)";
			core::Object &obj = object();
			std::string map = get_string(Env(), info[0], usage);
			std::string path = get_string(Env(), info[1], usage);
			guarded(Env(), [&] { obj.pin_map(map, path); });
		});
	}

	void close(const Napi::CallbackInfo &info) { obj_.reset(); }

	std::unique_ptr<core::Object> obj_;
	std::string name_;
};

} // namespace

Napi::Function define_loaded_object_class(Napi::Env env)
{
	return LoadedObjectWrap::define(env);
}

Napi::Function define_attachment_class(Napi::Env env)
{
	return AttachmentWrap::define(env);
}

} // namespace binding

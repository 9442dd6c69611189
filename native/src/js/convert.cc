// N-API layer: errors, buffers, BTF trees and load outcomes from core structs to JS values, and the
// argument checks every entry point uses.
#include "binding.h"

namespace binding {

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

void type_error(Napi::Env env, const std::string &msg)
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

namespace {

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

} // namespace binding

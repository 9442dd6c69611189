// N-API layer: describeObject(path) and objectStructTypes(path), object files read without the kernel,
// on the JS thread (spec_workers.cc has them on the libuv pool), and their conversions to JS.
#include "../core/spec.h"
#include "binding.h"

namespace binding {

Napi::Object spec_to_js(Napi::Env env, const core::ObjectSpec &s)
{
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

Napi::Object struct_types_to_js(Napi::Env env, const std::vector<std::pair<std::string, core::BtfNode>> &v)
{
	Napi::Object o = Napi::Object::New(env);
	for (const auto &s : v)
		o.Set(s.first, btf_to_js(env, s.second));
	return o;
}

Napi::Value describe_object(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = get_string(env, info[0], "Usage: describeObject(path: string)");
	return spec_to_js(env, core::describe_object(path));
}

Napi::Value object_struct_types(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = get_string(env, info[0], "Usage: objectStructTypes(path: string)");
	return struct_types_to_js(env, core::object_struct_types(path));
}

} // namespace binding

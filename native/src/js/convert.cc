// N-API layer: errors, buffers, BTF trees and load outcomes from core structs to JS values, and the
// argument checks every entry point uses.
#include "binding.h"

#include <new>

namespace binding {

Failure current_failure() noexcept
{
	Failure f;
	try {
		try {
			throw;
		} catch (const core::BadInput &e) {
			f.kind = "BadInput";
			f.err = e.err();
			f.message = e.what();
			f.field = e.field();
		} catch (const core::Error &e) {
			f.err = e.err();
			f.message = e.what();
		} catch (const std::bad_alloc &) {
			f.kind = "Internal";
			f.err = ENOMEM;
			f.message = "the native addon ran out of memory";
		} catch (const std::exception &e) {
			f.kind = "Internal";
			f.message = std::string("internal error in the native addon: ") + e.what();
		} catch (...) {
			f.kind = "Internal";
			f.message = "internal error in the native addon: an unknown C++ exception";
		}
	} catch (...) {
		// Building the message itself failed (out of memory): say so without allocating more.
		f = Failure();
		f.kind = "Internal";
		f.err = ENOMEM;
	}
	return f;
}

Napi::Error to_js_error(Napi::Env env, const Failure &f)
{
	Napi::Error e = Napi::Error::New(env, f.message.empty() ? "the native addon ran out of memory" : f.message);
	if (f.err) {
		e.Set("errno", Napi::Number::New(env, f.err));
		std::string code = core::errno_name(f.err);
		if (!code.empty())
			e.Set("code", Napi::String::New(env, code));
	}
	if (f.kind)
		e.Set("kind", Napi::String::New(env, f.kind));
	if (!f.field.empty())
		e.Set("field", Napi::String::New(env, f.field));
	return e;
}

Napi::Error to_js_error(Napi::Env env, int err, const std::string &msg)
{
	Failure f;
	f.err = err;
	f.message = msg;
	return to_js_error(env, f);
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
	// A scope per node: a big tree does not pile every handle into the caller's scope.
	Napi::EscapableHandleScope scope(env);
	Napi::Object o = Napi::Object::New(env);
	o.Set("kind", n.kind);
	if (n.kind == "void")
		return scope.Escape(o);
	if (n.kind == "ptr") {
		o.Set("size", n.size);
		o.Set("target", n.target_name);
		return scope.Escape(o);
	}
	if (n.kind == "array") {
		o.Set("size", n.size);
		o.Set("elem", n.child.empty() ? Napi::Object::New(env) : btf_to_js(env, n.child[0]));
		o.Set("length", n.length);
		return scope.Escape(o);
	}
	o.Set("name", n.name);
	o.Set("size", n.size);
	if (n.kind == "int") {
		o.Set("signed", n.is_signed);
		o.Set("char", n.is_char);
		o.Set("bool", n.is_bool);
		o.Set("bits", n.bits);
	} else if (n.kind == "struct" || n.kind == "union") {
		o.Set("id", n.id);
		o.Set("members", to_js_array(env, n.members, btf_member_to_js));
	} else if (n.kind == "ref") {
		o.Set("id", n.id);
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
	return scope.Escape(o);
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
		if (!res.bad_input_field.empty()) {
			e.Set("kind", "BadInput");
			e.Set("field", res.bad_input_field);
		}
		if (!res.program.empty())
			e.Set("program", res.program);
		o.Set("error", e);
	}
	return o;
}

} // namespace binding

// N-API: programInstructions(progId), marshalling core::program_instructions().
#include "../core/insns.h"
#include "binding.h"

namespace binding {

namespace {

Napi::String hex_address(Napi::Env env, uint64_t addr)
{
	// Kernel addresses do not fit a double: hex strings keep every bit.
	char buf[19];
	snprintf(buf, sizeof(buf), "%llx", (unsigned long long)addr);
	return Napi::String::New(env, buf);
}

} // namespace

Napi::Value program_instructions(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	const char *usage = "Usage: programInstructions(progId: number)";
	if (info.Length() < 1 || !info[0].IsNumber())
		throw Napi::TypeError::New(env, usage);
	double id = info[0].As<Napi::Number>().DoubleValue();
	if (id < 1 || id > 0x7fffffff || id != (double)(uint32_t)id)
		throw Napi::TypeError::New(env, usage);
	auto p = guarded(env, [&] { return core::program_instructions((uint32_t)id); });

	Napi::Object o = Napi::Object::New(env);
	o.Set("name", p.name);
	o.Set("tag", p.tag);
	o.Set("xlated", to_buffer(env, p.xlated));
	o.Set("jited", to_buffer(env, p.jited));
	o.Set("lineInfo", to_js_array(env, p.lines, [](Napi::Env env, const core::InsnLineInfo &li) {
		Napi::Object l = Napi::Object::New(env);
		l.Set("insnOffset", li.insn_off);
		l.Set("file", li.file);
		l.Set("line", li.line);
		l.Set("column", li.column);
		l.Set("text", li.text);
		return l;
	}));
	o.Set("jitedLineAddresses", to_js_array(env, p.jited_line_addrs, hex_address));
	o.Set("jitedFunctionAddresses", to_js_array(env, p.jited_ksyms, hex_address));
	o.Set("jitedFunctionLengths", to_js_array(env, p.jited_func_lens));
	return o;
}

} // namespace binding

// A loaded program's instructions as the kernel holds them: translated (xlated) BPF instructions, the
// JITed machine code, and line info resolved through the program's BTF (file name, line, source text).
// What "eBPF: Show Instructions" disassembles. Needs root (raw dumps follow bpf_dump_raw_ok()).
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>

#include <cstring>
#include <memory>

#include "bpf_core.h"
#include "napi_util.h"

namespace core {

struct InsnLineInfo {
	uint32_t insn_off; // in instructions (8-byte units) of the xlated image
	std::string file;
	std::string text;
	uint32_t line;
	uint32_t column;
};

struct ProgramInstructions {
	std::string name;
	std::string tag;
	std::vector<uint8_t> xlated;
	std::vector<uint8_t> jited;
	std::vector<InsnLineInfo> lines;
	// Kernel addresses: where each line info's code starts in the JITed image, and where each
	// function (main program first, then subprograms) starts, with its length.
	std::vector<uint64_t> jited_line_addrs;
	std::vector<uint64_t> jited_ksyms;
	std::vector<uint32_t> jited_func_lens;
};

// Line info larger than this is not a program the verifier accepted (1M insns max).
constexpr uint32_t kMaxRecords = 1u << 20;

ProgramInstructions program_instructions(uint32_t prog_id)
{
	Fd fd(bpf_prog_get_fd_by_id(prog_id));
	if (!fd)
		fail(errno, "instructions: open program id " + std::to_string(prog_id));

	// First ask for the sizes, then for the data in buffers of exactly those sizes.
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	uint32_t len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd.get(), &info, &len))
		fail(errno, "instructions: info of program " + std::to_string(prog_id));
	if (info.nr_line_info > kMaxRecords || info.nr_jited_line_info > kMaxRecords || info.nr_jited_ksyms > kMaxRecords)
		fail(E2BIG, "instructions: implausible line info counts");

	ProgramInstructions out;
	out.name = info.name;
	char tag[2 * BPF_TAG_SIZE + 1];
	for (int i = 0; i < BPF_TAG_SIZE; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	out.tag = tag;
	out.xlated.assign(info.xlated_prog_len, 0);
	out.jited.assign(info.jited_prog_len, 0);
	std::vector<struct bpf_line_info> line_info(info.nr_line_info);
	out.jited_line_addrs.assign(info.nr_jited_line_info, 0);
	out.jited_ksyms.assign(info.nr_jited_ksyms, 0);
	out.jited_func_lens.assign(info.nr_jited_func_lens, 0);
	uint32_t btf_id = info.btf_id;

	struct bpf_prog_info want;
	memset(&want, 0, sizeof(want));
	want.xlated_prog_len = out.xlated.size();
	want.xlated_prog_insns = (uint64_t)(uintptr_t)out.xlated.data();
	want.jited_prog_len = out.jited.size();
	want.jited_prog_insns = (uint64_t)(uintptr_t)out.jited.data();
	want.nr_line_info = line_info.size();
	want.line_info_rec_size = sizeof(struct bpf_line_info);
	want.line_info = (uint64_t)(uintptr_t)line_info.data();
	want.nr_jited_line_info = out.jited_line_addrs.size();
	want.jited_line_info_rec_size = sizeof(uint64_t);
	want.jited_line_info = (uint64_t)(uintptr_t)out.jited_line_addrs.data();
	want.nr_jited_ksyms = out.jited_ksyms.size();
	want.jited_ksyms = (uint64_t)(uintptr_t)out.jited_ksyms.data();
	want.nr_jited_func_lens = out.jited_func_lens.size();
	want.jited_func_lens = (uint64_t)(uintptr_t)out.jited_func_lens.data();
	len = sizeof(want);
	if (bpf_obj_get_info_by_fd(fd.get(), &want, &len))
		fail(errno, "instructions: dump of program " + std::to_string(prog_id));
	// The kernel reports 0 bytes when it withholds the image (no raw dump rights): say so as empty.
	out.xlated.resize(std::min<size_t>(want.xlated_prog_len, out.xlated.size()));
	out.jited.resize(std::min<size_t>(want.jited_prog_len, out.jited.size()));
	if (want.jited_ksyms == 0)
		out.jited_ksyms.clear();

	std::unique_ptr<struct btf, void (*)(struct btf *)> btf(btf_id ? btf__load_from_kernel_by_id(btf_id) : nullptr, btf__free);
	for (const auto &li : line_info) {
		InsnLineInfo l;
		l.insn_off = li.insn_off;
		l.line = BPF_LINE_INFO_LINE_NUM(li.line_col);
		l.column = BPF_LINE_INFO_LINE_COL(li.line_col);
		if (btf) {
			const char *file = btf__name_by_offset(btf.get(), li.file_name_off);
			const char *text = btf__name_by_offset(btf.get(), li.line_off);
			l.file = file ? file : "";
			l.text = text ? text : "";
		}
		out.lines.push_back(std::move(l));
	}
	return out;
}

} // namespace core

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

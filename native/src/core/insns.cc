// Core layer: program_instructions(): sizes first, then the data in buffers of exactly those sizes.
// What "eBPF: Show Instructions" disassembles. Needs root (raw dumps follow bpf_dump_raw_ok()).
#include "insns.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <cerrno>
#include <cstring>
#include <linux/bpf.h>
#include <memory>

#include "errors.h"

namespace core {

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

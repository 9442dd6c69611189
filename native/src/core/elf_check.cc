// Core layer: check_bpf_elf(), the checks an object file passes before libelf and libbpf read it.
// libbpf trusts much of the ELF (section offsets and sizes, name offsets, symbol and relocation
// indexes) and either fails with "BPF object format invalid" or reads out of bounds; here each table
// is checked against the file and its neighbours (and the .BTF header against its section), and the
// first thing wrong is named.
#include "elf_check.h"

#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "errors.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

namespace core {
namespace {

struct Shdr {
	uint32_t name, type;
	uint64_t offset, size;
	uint32_t link, info;
	uint64_t entsize;
	std::string label; // "section .BTF (index 5)" once names are known
};

class ElfFile {
public:
	// O_NONBLOCK: a FIFO in place of an object file must not block the open.
	explicit ElfFile(const std::string &path)
		: path_(path), fd_(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK))
	{
		if (!fd_)
			fail(errno, "open object file " + path);
		struct stat st = {};
		if (fstat(fd_.get(), &st) != 0)
			fail(errno, "stat object file " + path);
		if (!S_ISREG(st.st_mode))
			bad("not a regular file");
		size_ = (uint64_t)st.st_size;
	}

	[[noreturn]] void bad(const std::string &what) const
	{
		throw BadInput("path", "not a BPF object file: " + path_ + ": " + what, ENOEXEC);
	}

	uint64_t size() const { return size_; }
	void set_msb(bool msb) { msb_ = msb; }

	// Bytes [off, off + len), which the caller has checked lie inside the file.
	std::vector<uint8_t> read(uint64_t off, uint64_t len, const std::string &what) const
	{
		std::vector<uint8_t> buf(len);
		size_t done = 0;
		while (done < len) {
			ssize_t n = pread(fd_.get(), buf.data() + done, len - done, off + done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				fail(errno, "read object file " + path_);
			if (n == 0)
				bad(what + " is cut short (the file shrank while it was read)");
			done += n;
		}
		return buf;
	}

	uint64_t get(const uint8_t *p, int size) const
	{
		uint64_t v = 0;
		for (int i = 0; i < size; i++)
			v |= (uint64_t)p[msb_ ? size - 1 - i : i] << (8 * i);
		return v;
	}

	// [off, off + len) within the file, without overflow.
	bool in_file(uint64_t off, uint64_t len) const { return off <= size_ && len <= size_ - off; }

private:
	std::string path_;
	Fd fd_;
	uint64_t size_ = 0;
	bool msb_ = false;
};

Shdr parse_shdr(const ElfFile &f, const uint8_t *p)
{
	Shdr s;
	s.name = f.get(p + 0, 4);
	s.type = f.get(p + 4, 4);
	s.offset = f.get(p + 24, 8);
	s.size = f.get(p + 32, 8);
	s.link = f.get(p + 40, 4);
	s.info = f.get(p + 44, 4);
	s.entsize = f.get(p + 56, 8);
	return s;
}

// A string table's bytes, which must end in NUL so every name in it terminates inside it.
std::vector<uint8_t> read_strtab(const ElfFile &f, const Shdr &s, const std::string &what)
{
	if (s.type != SHT_STRTAB)
		f.bad(what + " (" + s.label + ") is not a string table");
	std::vector<uint8_t> t = f.read(s.offset, s.size, what);
	if (t.empty() || t.back() != 0)
		f.bad(what + " (" + s.label + ") is not NUL-terminated");
	return t;
}

// Symbols' names and sections, then every relocation's symbol index.
void check_symbols(const ElfFile &f, const std::vector<Shdr> &sh)
{
	size_t symtab = 0, nsyms = 0;
	for (size_t i = 1; i < sh.size(); i++) {
		if (sh[i].type != SHT_SYMTAB)
			continue;
		if (symtab)
			f.bad("more than one symbol table (" + sh[symtab].label + ", " + sh[i].label + ")");
		symtab = i;
	}
	if (!symtab)
		return; // libbpf says "elf: symbol table not found" itself
	const Shdr &st = sh[symtab];
	if (st.entsize != sizeof(Elf64_Sym) || st.size % sizeof(Elf64_Sym))
		f.bad(st.label + " has entries of " + std::to_string(st.entsize) + " bytes in " +
		      std::to_string(st.size) + ", expected " + std::to_string(sizeof(Elf64_Sym)) + "-byte symbols");
	std::vector<uint8_t> strtab = read_strtab(f, sh[st.link], "the symbol string table");
	std::vector<uint8_t> syms = f.read(st.offset, st.size, st.label);
	nsyms = st.size / sizeof(Elf64_Sym);
	for (size_t i = 0; i < nsyms; i++) {
		const uint8_t *p = syms.data() + i * sizeof(Elf64_Sym);
		uint64_t name = f.get(p + offsetof(Elf64_Sym, st_name), 4);
		uint64_t shndx = f.get(p + offsetof(Elf64_Sym, st_shndx), 2);
		if (name >= strtab.size())
			f.bad("symbol " + std::to_string(i) + " has name offset " + std::to_string(name) +
			      ", outside the symbol string table (" + std::to_string(strtab.size()) + " bytes)");
		if (shndx < SHN_LORESERVE && shndx >= sh.size())
			f.bad("symbol " + std::string((const char *)strtab.data() + name) + " (" + std::to_string(i) +
			      ") is in section " + std::to_string(shndx) + ", out of range (" +
			      std::to_string(sh.size()) + " sections)");
	}
	for (size_t i = 1; i < sh.size(); i++) {
		const Shdr &s = sh[i];
		if (s.type != SHT_REL && s.type != SHT_RELA)
			continue;
		uint64_t ent = s.type == SHT_REL ? sizeof(Elf64_Rel) : sizeof(Elf64_Rela);
		if (s.entsize != ent || s.size % ent)
			f.bad(s.label + " has entries of " + std::to_string(s.entsize) + " bytes in " +
			      std::to_string(s.size) + ", expected " + std::to_string(ent) + "-byte relocations");
		if (s.link != symtab)
			f.bad(s.label + " refers to section " + std::to_string(s.link) + " as its symbol table, not " +
			      st.label);
		if (s.info == 0 || s.info >= sh.size())
			f.bad(s.label + " relocates section " + std::to_string(s.info) + ", out of range");
		std::vector<uint8_t> rel = f.read(s.offset, s.size, s.label);
		for (uint64_t r = 0; r < s.size / ent; r++) {
			uint64_t sym = f.get(rel.data() + r * ent + 8, 8) >> 32;
			if (sym >= nsyms)
				f.bad("relocation " + std::to_string(r) + " in " + s.label + " refers to symbol " +
				      std::to_string(sym) + ", out of range (" + std::to_string(nsyms) + " symbols)");
		}
	}
}

// The .BTF header (struct btf_header, linux/btf.h): its type and string areas inside the section.
void check_btf_header(const ElfFile &f, const Shdr &s)
{
	if (s.type == SHT_NOBITS || s.size < 24)
		f.bad(s.label + " is too small for a BTF header (" + std::to_string(s.size) + " bytes)");
	std::vector<uint8_t> h = f.read(s.offset, 24, s.label);
	if (f.get(h.data(), 2) != 0xeb9f)
		f.bad(s.label + " does not start with the BTF magic 0xeb9f");
	uint64_t hdr_len = f.get(h.data() + 4, 4), type_off = f.get(h.data() + 8, 4), type_len = f.get(h.data() + 12, 4);
	uint64_t str_off = f.get(h.data() + 16, 4), str_len = f.get(h.data() + 20, 4);
	if (hdr_len < 24 || hdr_len > s.size)
		f.bad(s.label + ": its BTF header claims " + std::to_string(hdr_len) + " bytes, in a section of " +
		      std::to_string(s.size));
	uint64_t room = s.size - hdr_len;
	auto area = [&](const char *what, uint64_t off, uint64_t len) {
		if (off > room || len > room - off)
			f.bad(s.label + ": its BTF " + what + " run from byte " + std::to_string(off) + " for " +
			      std::to_string(len) + " bytes, past the " + std::to_string(room) + " bytes after the header");
	};
	area("types", type_off, type_len);
	area("strings", str_off, str_len);
}

} // namespace

void check_bpf_elf(const std::string &path)
{
	ElfFile f(path);
	unsigned char h[64] = {};
	std::vector<uint8_t> head = f.read(0, std::min<uint64_t>(f.size(), sizeof(h)), "the ELF header");
	memcpy(h, head.data(), head.size());
	if (head.size() < 20 || memcmp(h, ELFMAG, SELFMAG) != 0)
		f.bad("not an ELF file");
	if (h[EI_DATA] != ELFDATA2LSB && h[EI_DATA] != ELFDATA2MSB)
		f.bad("unknown ELF byte order " + std::to_string(h[EI_DATA]));
	f.set_msb(h[EI_DATA] == ELFDATA2MSB);
	unsigned machine = f.get(h + 18, 2);
	if (machine != EM_BPF)
		f.bad("ELF machine is " + std::to_string(machine) + ", expected 247 (EM_BPF); compile with clang -target bpf");
	unsigned type = f.get(h + 16, 2);
	if (type != ET_REL)
		f.bad("not a relocatable object (ELF type " + std::to_string(type) + ")");
	if (h[EI_CLASS] != ELFCLASS64)
		f.bad(h[EI_CLASS] == ELFCLASS32 ? "a 32-bit ELF file; BPF objects are ELF64"
						: "unknown ELF class " + std::to_string(h[EI_CLASS]));
	if (head.size() < sizeof(Elf64_Ehdr))
		f.bad("truncated (" + std::to_string(f.size()) + " bytes; the ELF header alone is 64)");

	uint64_t shoff = f.get(h + offsetof(Elf64_Ehdr, e_shoff), 8);
	uint64_t shentsize = f.get(h + offsetof(Elf64_Ehdr, e_shentsize), 2);
	uint64_t shnum = f.get(h + offsetof(Elf64_Ehdr, e_shnum), 2);
	uint64_t shstrndx = f.get(h + offsetof(Elf64_Ehdr, e_shstrndx), 2);
	if (shoff == 0)
		f.bad("no section header table");
	if (shentsize != sizeof(Elf64_Shdr))
		f.bad("section headers are " + std::to_string(shentsize) + " bytes each, expected 64");
	// A cut-off copy (an interrupted download or build) loses its section headers first: they come last.
	auto truncated = [&](uint64_t end) {
		f.bad("truncated (" + std::to_string(f.size()) + " bytes; its section headers end at byte " +
		      std::to_string(end) + ")");
	};
	if (!f.in_file(shoff, sizeof(Elf64_Shdr)))
		truncated(shoff + sizeof(Elf64_Shdr));
	// More than 0xff00 sections: the count and the name table index live in section 0.
	Shdr zero = parse_shdr(f, f.read(shoff, sizeof(Elf64_Shdr), "section header 0").data());
	if (shnum == 0)
		shnum = zero.size;
	if (shstrndx == SHN_XINDEX)
		shstrndx = zero.link;
	if (shnum > f.size() / sizeof(Elf64_Shdr))
		f.bad(std::to_string(shnum) + " section headers cannot fit in " + std::to_string(f.size()) + " bytes");
	if (!f.in_file(shoff, shnum * sizeof(Elf64_Shdr)))
		truncated(shoff + shnum * sizeof(Elf64_Shdr));
	std::vector<uint8_t> table = f.read(shoff, shnum * sizeof(Elf64_Shdr), "the section header table");
	std::vector<Shdr> sh;
	for (uint64_t i = 0; i < shnum; i++) {
		sh.push_back(parse_shdr(f, table.data() + i * sizeof(Elf64_Shdr)));
		sh.back().label = "section " + std::to_string(i);
	}
	if (shstrndx == 0 || shstrndx >= shnum)
		f.bad("the section name table is section " + std::to_string(shstrndx) + ", out of range (" +
		      std::to_string(shnum) + " sections)");
	auto check_range = [&](const Shdr &s) {
		if (s.type != SHT_NOBITS && !f.in_file(s.offset, s.size))
			f.bad(s.label + " runs from byte " + std::to_string(s.offset) + " for " + std::to_string(s.size) +
			      " bytes, past the end of the file (" + std::to_string(f.size()) + " bytes)");
	};
	check_range(sh[shstrndx]);
	std::vector<uint8_t> names = read_strtab(f, sh[shstrndx], "the section name table");
	for (size_t i = 1; i < sh.size(); i++) {
		if (sh[i].name >= names.size())
			f.bad(sh[i].label + " has name offset " + std::to_string(sh[i].name) +
			      ", outside the section name table (" + std::to_string(names.size()) + " bytes)");
		sh[i].label = "section " + std::string((const char *)names.data() + sh[i].name) + " (index " +
			      std::to_string(i) + ")";
	}
	for (size_t i = 1; i < sh.size(); i++) {
		check_range(sh[i]);
		if (sh[i].link >= shnum)
			f.bad(sh[i].label + " links to section " + std::to_string(sh[i].link) + ", out of range (" +
			      std::to_string(shnum) + " sections)");
	}
	for (size_t i = 1; i < sh.size(); i++)
		if (sh[i].label.rfind("section .BTF (", 0) == 0)
			check_btf_header(f, sh[i]);
	check_symbols(f, sh);
}

} // namespace core

// Core layer: the libbpf print callback behind core::Capture.
#include "libbpf_log.h"

#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace core {
namespace {

thread_local std::string *tl_sink;
std::once_flag print_once;

int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char small[512];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	std::string msg;
	if (n < 0)
		return 0;
	if ((size_t)n < sizeof(small)) {
		msg.assign(small, n);
	} else {
		msg.resize(n + 1);
		vsnprintf(&msg[0], n + 1, fmt, ap);
		msg.resize(n);
	}
	if (tl_sink)
		tl_sink->append(msg);
	else if (level == LIBBPF_WARN)
		fputs(msg.c_str(), stderr);
	return 0;
}

} // namespace

Capture::Capture(std::string &sink) : prev_(tl_sink)
{
	std::call_once(print_once, [] { libbpf_set_print(print_fn); });
	tl_sink = &sink;
}

Capture::~Capture()
{
	tl_sink = prev_;
}

std::string last_message(const std::string &log)
{
	std::string s = log;
	while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
		s.pop_back();
	size_t nl = s.rfind('\n');
	s = nl == std::string::npos ? s : s.substr(nl + 1);
	// Callers add their own "libbpf: " in front.
	return s.rfind("libbpf: ", 0) == 0 ? s.substr(8) : s;
}

} // namespace core

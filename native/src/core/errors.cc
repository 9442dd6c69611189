// Core layer: errno text and names for core::Error, and the Fd guard.
#include "errors.h"

#include <bpf/libbpf.h>
#include <cstring>
#include <unistd.h>

namespace core {

std::string errno_text(int err)
{
	if (err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END) {
		char buf[128];
		libbpf_strerror(err, buf, sizeof(buf));
		return buf;
	}
	if (err == ENOTSUPP)
		return "Operation not supported";
	return strerror(err);
}

std::string errno_name(int err)
{
	if (err == ENOTSUPP)
		return "ENOTSUPP";
	const char *n = strerrorname_np(err);
	return n ? n : "";
}

void fail(int err, const std::string &what)
{
	if (err <= 0)
		err = EINVAL;
	std::string text = errno_text(err);
	// libbpf's private codes mean nothing to callers; EINVAL with libbpf's words does.
	if (err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END)
		err = EINVAL;
	throw Error(err, what + ": " + text);
}

Fd &Fd::operator=(Fd &&o) noexcept
{
	if (this != &o)
		reset(o.release());
	return *this;
}

int Fd::release()
{
	int fd = fd_;
	fd_ = -1;
	return fd;
}

void Fd::reset(int fd)
{
	if (fd_ >= 0)
		::close(fd_);
	fd_ = fd;
}

} // namespace core

// Core layer (plain C++ over libbpf, no napi.h): errno-carrying errors, and Fd, which closes a file
// descriptor on every path. Every failure in core/ is a core::Error carrying a positive errno and a
// message that names the operation; malformed or over-limit input is a core::BadInput.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

#ifndef ENOTSUPP
#define ENOTSUPP 524 // kernel-internal, leaks out of some bpf() paths
#endif

namespace core {

// An errno-carrying failure. errno is always positive (EPERM = 1, ...).
class Error : public std::runtime_error {
public:
	Error(int err, const std::string &msg) : std::runtime_error(msg), err_(err) {}
	int err() const { return err_; }

private:
	int err_;
};

// Malformed or over-limit input: a hostile or damaged object file, an option beyond a limit. The
// binding gives it kind "BadInput" and `field`, the input at fault ("path", "maxEntries.counts").
class BadInput : public Error {
public:
	BadInput(std::string field, const std::string &msg, int err = EINVAL)
		: Error(err, msg), field_(std::move(field)) {}
	const std::string &field() const { return field_; }

private:
	std::string field_;
};

// "what: strerror(err)"; libbpf's private errnos (>= 4000) are reported as EINVAL with libbpf's text.
[[noreturn]] void fail(int err, const std::string &what);
std::string errno_text(int err);
// Name of an errno ("EPERM"), "" when unknown.
std::string errno_name(int err);

// Closes an fd on every path.
class Fd {
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	Fd(Fd &&o) noexcept : fd_(o.release()) {}
	Fd &operator=(Fd &&o) noexcept;
	~Fd() { reset(); }
	int get() const { return fd_; }
	int release();
	void reset(int fd = -1);
	explicit operator bool() const { return fd_ >= 0; }

private:
	int fd_ = -1;
};

} // namespace core

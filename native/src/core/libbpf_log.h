// Core layer: capture of libbpf's messages. libbpf prints on the calling thread, so a per-thread sink
// keeps concurrent loads (each on its own worker thread) from mixing their messages.
#pragma once

#include <string>

namespace core {

// While alive, libbpf's messages on this thread are appended to `sink` (debug chatter excluded).
// Output with no sink goes to stderr as libbpf would, minus debug chatter.
class Capture {
public:
	explicit Capture(std::string &sink);
	~Capture();
	Capture(const Capture &) = delete;
	Capture &operator=(const Capture &) = delete;

private:
	std::string *prev_;
};

// The last libbpf message of a captured log, without its "libbpf: " prefix, to explain a failure.
std::string last_message(const std::string &log);

} // namespace core

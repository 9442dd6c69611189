// Core layer: a loaded bpf_object (Object), which owns its program and map fds and the attachments
// made through it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attach.h"

struct bpf_object;
struct bpf_program;

namespace core {

struct LoadedProgram {
	std::string name, section, type;
	uint32_t id = 0;
	int fd = -1;
};
struct LoadedMap {
	std::string name, type;
	uint32_t id = 0;
	int fd = -1;
	uint32_t key_size = 0, value_size = 0, max_entries = 0;
	bool internal = false;
};

class Object {
public:
	Object(struct bpf_object *obj, std::string name) : obj_(obj), name_(std::move(name)) {}
	~Object() { close(); }
	Object(const Object &) = delete;
	Object &operator=(const Object &) = delete;

	const std::string &name() const { return name_; }
	bool closed() const { return obj_ == nullptr; }
	std::vector<LoadedProgram> programs() const;
	std::vector<LoadedMap> maps() const;
	// attach.cc
	std::shared_ptr<Attachment> attach(const std::string &program, const AttachTarget &target);
	void pin_program(const std::string &program, const std::string &path);
	void pin_map(const std::string &map, const std::string &path);
	// Detaches every attachment (pinned links survive through their pins) and closes all fds.
	void close();

private:
	void check_open() const;
	struct bpf_program *find_program(const std::string &name) const;
	std::shared_ptr<Attachment> attach_captured(const std::string &program, const AttachTarget &t);
	struct bpf_object *obj_;
	std::string name_;
	std::vector<std::shared_ptr<Attachment>> attachments_;
};

} // namespace core

// Core layer: objects pinned in bpffs: what a pin holds, and unpinning.
#pragma once

#include <cstdint>
#include <string>

namespace core {

struct PinnedInfo {
	std::string kind; // prog map link
	uint32_t id = 0;
};
PinnedInfo pinned_object_info(const std::string &path);
void unpin(const std::string &path);

} // namespace core

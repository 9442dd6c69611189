// Core layer: BPF_PROG_TEST_RUN (kernel 4.12; which program types can run varies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace core {

struct TestRunResult {
	int64_t retval = 0;
	std::vector<uint8_t> data_out;
	uint32_t duration_ns = 0;
};
TestRunResult test_run(uint32_t prog_id, const uint8_t *data, size_t len, uint32_t repeat);

} // namespace core

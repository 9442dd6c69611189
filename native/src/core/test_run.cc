// Core layer: BPF_PROG_TEST_RUN of a program by id.
#include "test_run.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstring>

#include "errors.h"

namespace core {

TestRunResult test_run(uint32_t prog_id, const uint8_t *data, size_t len, uint32_t repeat)
{
	Fd fd(bpf_prog_get_fd_by_id(prog_id));
	if (!fd)
		fail(errno, "test run: open program id " + std::to_string(prog_id));
	TestRunResult r;
	r.data_out.assign(len + 256, 0);
	struct bpf_test_run_opts o;
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.data_in = len ? data : nullptr;
	o.data_size_in = len;
	o.data_out = r.data_out.data();
	o.data_size_out = r.data_out.size();
	o.repeat = repeat;
	if (bpf_prog_test_run_opts(fd.get(), &o))
		fail(errno, "test run of program " + std::to_string(prog_id));
	r.retval = o.retval;
	r.duration_ns = o.duration;
	r.data_out.resize(std::min<size_t>(o.data_size_out, r.data_out.size()));
	return r;
}

} // namespace core

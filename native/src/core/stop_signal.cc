// Core layer: StopSignal (see stop_signal.h).
#include "stop_signal.h"

#include <cerrno>
#include <cstdint>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace core {

void StopSignal::open(const char *what)
{
	fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!fd_)
		fail(errno, std::string(what) + ": eventfd");
}

void StopSignal::raise()
{
	uint64_t one = 1;
	(void)!write(fd_.get(), &one, sizeof one);
}

int StopSignal::wait(int fd, int timeout_ms) const
{
	struct pollfd fds[2] = {{fd, POLLIN, 0}, {fd_.get(), POLLIN, 0}};
	return poll(fds, 2, timeout_ms) < 0 ? -errno : 0;
}

} // namespace core

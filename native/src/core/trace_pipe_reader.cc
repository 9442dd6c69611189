// Core layer: TracePipeReader. trace_pipe is a destructive stream: a read takes lines out of the kernel's
// trace ring (at most a page per read), and a line can be cut between two reads. Opened non-blocking, a
// read of an empty pipe fails with EAGAIN; poll() reports it readable once any CPU's ring holds an entry
// (for the all-CPU trace_pipe the kernel ignores buffer_percent), so the thread sleeps in poll only.
#include "trace_pipe_reader.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

namespace core {
namespace {

constexpr size_t kFlushBytes = 256 << 10;
constexpr auto kFlushInterval = std::chrono::milliseconds(10);
// The per-CPU overrun counters are read at most this often while lines arrive or the reader waits for credit.
constexpr auto kOverrunInterval = std::chrono::milliseconds(500);
// A line longer than this is handed on in pieces rather than held without bound.
constexpr size_t kMaxLineBytes = 256 << 10;
// trace_pipe gives at most a page per read; a bigger buffer only helps kernels that give more.
constexpr size_t kReadBytes = 16 << 10;

} // namespace

void TracePipeReader::start(const std::string &tracefs, Sink sink, uint64_t allowed)
{
	std::string pipe = tracefs + "/trace_pipe";
	pipe_fd_.reset(open(pipe.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	if (!pipe_fd_)
		fail(errno, "open " + pipe);
	try {
		stop_signal_.open("trace_pipe reader");
	} catch (...) {
		pipe_fd_.reset();
		throw;
	}
	// Without per-CPU stats (an older tracefs) the overruns are unknown and reported as none.
	std::string per_cpu = tracefs + "/per_cpu";
	if (DIR *d = opendir(per_cpu.c_str())) {
		while (struct dirent *e = readdir(d)) {
			if (strncmp(e->d_name, "cpu", 3) != 0)
				continue;
			Fd fd(open((per_cpu + "/" + e->d_name + "/stats").c_str(), O_RDONLY | O_CLOEXEC));
			if (fd)
				stats_fds_.push_back(std::move(fd));
		}
		closedir(d);
	}
	overruns_seen_ = overruns_total();
	overruns_read_at_ = std::chrono::steady_clock::now();
	allowed_ = allowed;
	sink_ = std::move(sink);
	closed_ = std::make_shared<std::atomic<bool>>(false);
	cur_.reserve(kFlushBytes + kReadBytes);
	stop_ = false;
	running_ = true;
	thread_ = std::thread([this] { loop(); });
}

void TracePipeReader::allow(uint64_t total)
{
	allowed_ = total;
	std::lock_guard<std::mutex> lock(mu_);
	cv_.notify_all();
}

void TracePipeReader::stop()
{
	if (!running_)
		return;
	running_ = false;
	stop_ = true;
	// The signal wakes the thread from poll; the condition variable from a wait for credit.
	stop_signal_.raise();
	{
		std::lock_guard<std::mutex> lock(mu_);
		cv_.notify_all();
	}
	if (thread_.joinable())
		thread_.join();
	closed_->store(true);
	pipe_fd_.reset();
	stop_signal_.close();
	stats_fds_.clear();
}

// Thread only from here on (and start(), before the thread exists).

uint64_t TracePipeReader::overruns_total()
{
	uint64_t total = 0;
	char buf[1024];
	for (const Fd &fd : stats_fds_) {
		ssize_t n = pread(fd.get(), buf, sizeof buf - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = 0;
		// "overrun: N" at the start of a line, not "commit overrun: N".
		const char *line = buf;
		while (line) {
			if (strncmp(line, "overrun:", 8) == 0) {
				total += strtoull(line + 8, nullptr, 10);
				break;
			}
			line = strchr(line, '\n');
			if (line)
				line++;
		}
	}
	return total;
}

void TracePipeReader::check_overruns(bool now)
{
	auto at = std::chrono::steady_clock::now();
	if (!now && at - overruns_read_at_ < kOverrunInterval)
		return;
	overruns_read_at_ = at;
	read_since_check_ = false;
	uint64_t total = overruns_total();
	if (total > overruns_seen_) {
		if (!count_ && !overrun_)
			batch_start_ = at;
		overrun_ += total - overruns_seen_;
	}
	overruns_seen_ = total;
}

void TracePipeReader::add_record(const char *a, size_t an, const char *b, size_t bn)
{
	uint32_t len = an + bn;
	size_t rec = (4 + (size_t)len + 7) & ~size_t(7);
	if (!count_ && !overrun_)
		batch_start_ = std::chrono::steady_clock::now();
	size_t off = cur_.size();
	cur_.resize(off + rec);
	uint8_t *out = &cur_[off];
	memcpy(out, &len, 4);
	memcpy(out + 4, a, an);
	if (bn)
		memcpy(out + 4 + an, b, bn);
	memset(out + 4 + len, 0, rec - 4 - len);
	count_++;
}

// Whole lines become records; empty lines are skipped; the tail without its newline waits for the next read.
void TracePipeReader::add_lines(const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end) {
		const char *nl = static_cast<const char *>(memchr(p, '\n', end - p));
		if (!nl) {
			partial_.append(p, end - p);
			if (partial_.size() > kMaxLineBytes) {
				add_record(partial_.data(), partial_.size(), nullptr, 0);
				partial_.clear();
			}
			return;
		}
		if (!partial_.empty()) {
			add_record(partial_.data(), partial_.size(), p, nl - p);
			partial_.clear();
		} else if (nl > p) {
			add_record(p, nl - p, nullptr, 0);
		}
		p = nl + 1;
	}
}

void TracePipeReader::flush(std::string error)
{
	if (!count_ && !overrun_ && error.empty())
		return;
	std::unique_ptr<TraceBatch> b(new TraceBatch());
	b->data.swap(cur_);
	b->count = count_;
	b->overrun = overrun_;
	b->error = std::move(error);
	b->closed = closed_;
	sent_ += b->data.size();
	count_ = 0;
	overrun_ = 0;
	sink_(std::move(b));
	cur_.reserve(kFlushBytes + kReadBytes);
}

void TracePipeReader::loop()
{
	// Named so that /proc/<pid>/task shows the reader (and a test can see it come and go).
	pthread_setname_np(pthread_self(), "ebpf-tracepipe");
	std::vector<char> buf(kReadBytes);
	auto due = [this] {
		return (count_ || overrun_) && std::chrono::steady_clock::now() - batch_start_ >= kFlushInterval;
	};
	while (!stop_) {
		if (!has_credit()) {
			// Hand over what is packed and wait for the owner's allow(); the kernel keeps the lines, and
			// counts what its ring overwrites meanwhile.
			flush();
			{
				std::unique_lock<std::mutex> lock(mu_);
				cv_.wait_for(lock, std::chrono::milliseconds(100),
					     [this] { return stop_.load() || has_credit(); });
			}
			check_overruns(false);
			flush();
			continue;
		}
		bool empty = false;
		while (!stop_ && has_credit() && cur_.size() < kFlushBytes) {
			ssize_t n = read(pipe_fd_.get(), buf.data(), buf.size());
			if (n > 0) {
				read_since_check_ = true;
				add_lines(buf.data(), n);
				continue;
			}
			if (n == 0 || errno == EAGAIN) {
				empty = true;
				break;
			}
			if (errno == EINTR)
				continue;
			int err = errno;
			flush("reading trace_pipe failed: " + errno_text(err));
			return;
		}
		check_overruns(false);
		if (!empty) {
			// Out of credit (handled above) or a full batch: hand it over and read on.
			if (cur_.size() >= kFlushBytes || due())
				flush();
			continue;
		}
		// Emptied: sleep until a line comes, or until the batch in hand is due. Before a sleep with nothing
		// due, the overruns of the burst just read are counted, or they would wait for the next line.
		if (!count_ && !overrun_ && read_since_check_) {
			check_overruns(true);
			flush();
		}
		int timeout = -1;
		if (count_ || overrun_) {
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
				kFlushInterval - (std::chrono::steady_clock::now() - batch_start_));
			if (left.count() <= 0)
				flush();
			else
				timeout = (int)left.count() + 1;
		}
		int err = stop_signal_.wait(pipe_fd_.get(), timeout);
		if (err < 0 && err != -EINTR) {
			flush("polling trace_pipe failed: " + errno_text(-err));
			return;
		}
		if (timeout >= 0 && due())
			flush();
	}
}

} // namespace core

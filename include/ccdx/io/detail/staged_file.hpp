#pragma once
// A file that appears at its path complete or not at all. The bytes go to an unnamed file in the
// target's folder (O_TMPFILE), every write() is checked (a full disk, a quota or a size limit is
// an error, never a short file), and only a file of the length written is linked into place, so
// a good file is never replaced by a truncated one and a writer killed midway leaves nothing.
// Where the file system has no unnamed files, a hidden name beside the target stands in
// (".<name>.ccdx-<host>-<pid>-<n>.tmp"); those of writers that died are removed by the next
// write into the folder.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

namespace ccdx::detail {

template <class Error>
class staged_file {
public:
    // kind names the file in messages, e.g. "FITS file".
    staged_file(std::filesystem::path target, const char* kind) : target_(std::move(target)), kind_(kind)
    {
        folder_ = target_.parent_path().empty() ? std::filesystem::path(".") : target_.parent_path();
#ifdef O_TMPFILE
        std::error_code no_proc;
        if (std::filesystem::exists("/proc/self/fd", no_proc))
            fd_ = ::open(folder_.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#endif
        if (fd_ < 0) {
            named_ = hidden_name();
            fd_ = ::open(named_.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
            if (fd_ < 0) fail("cannot be written: no file can be created in folder '" + folder_.string() + "'", errno);
        }
    }
    staged_file(const staged_file&) = delete;
    staged_file& operator=(const staged_file&) = delete;
    ~staged_file()
    {
        if (fd_ >= 0) ::close(fd_);
        if (!named_.empty()) ::unlink(named_.c_str());
    }

    void write(const void* bytes, std::size_t size)
    {
        const char* p = static_cast<const char*>(bytes);
        while (size > 0) {
            const ::ssize_t n = ::write(fd_, p, size);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) fail("cannot be written", n < 0 ? errno : ENOSPC);
            p += n;
            size -= static_cast<std::size_t>(n);
            written_ += static_cast<std::size_t>(n);
        }
    }

    // Rewrites bytes already written (a header whose checksum is known once its data are).
    void write_at(std::size_t offset, const void* bytes, std::size_t size)
    {
        const char* p = static_cast<const char*>(bytes);
        if (offset + size > written_) fail("cannot be written: a rewrite past its end", 0);
        while (size > 0) {
            const ::ssize_t n = ::pwrite(fd_, p, size, static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) fail("cannot be written", n < 0 ? errno : ENOSPC);
            p += n;
            size -= static_cast<std::size_t>(n);
            offset += static_cast<std::size_t>(n);
        }
    }

    // Puts the file in place: beside an existing one only with overwrite, atomically either way.
    void commit(bool overwrite)
    {
        struct ::stat st {};
        if (::fstat(fd_, &st) != 0) fail("cannot be verified", errno);
        if (static_cast<std::size_t>(st.st_size) != written_)
            fail("cannot be written: " + std::to_string(st.st_size) + " of " + std::to_string(written_) +
                     " bytes reached the disk",
                 0);
        if (named_.empty()) {
            // The unnamed file gets a name: the target itself, or a hidden one to rename over it.
            const std::string self = "/proc/self/fd/" + std::to_string(fd_);
            if (!overwrite) {
                if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, target_.c_str(), AT_SYMLINK_FOLLOW) != 0)
                    errno == EEXIST ? fail_exists() : fail("cannot be put in place", errno);
                return close_checked();
            }
            const std::filesystem::path hidden = hidden_name();
            if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, hidden.c_str(), AT_SYMLINK_FOLLOW) != 0)
                fail("cannot be put in place", errno);
            named_ = hidden;
        }
        close_checked();  // some file systems (NFS) report a failed write only here
        if (!overwrite) {
            // A hard link never replaces a file, even one created meanwhile; without hard links
            // (some network and FAT file systems), check and rename.
            if (::link(named_.c_str(), target_.c_str()) == 0) return;  // the destructor unlinks named_
            const int err = errno;
            std::error_code ec;
            if (err == EEXIST || std::filesystem::exists(target_, ec)) fail_exists();
        }
        if (::rename(named_.c_str(), target_.c_str()) != 0) fail("cannot be put in place", errno);
        named_.clear();
    }

private:
    [[noreturn]] void fail(const std::string& what, int err) const
    {
        std::string text = std::string(kind_) + " '" + target_.string() + "': " + what;
        if (err) text += " (" + std::generic_category().message(err) + ")";
        std::error_code ec;
        if (std::filesystem::exists(target_, ec)) text += "; the existing file is unchanged";
        throw Error(text);
    }
    [[noreturn]] void fail_exists() const
    {
        throw Error(std::string(kind_) + " '" + target_.string() + "': already exists (ask to overwrite it)");
    }
    void close_checked()
    {
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0 && errno != EINTR) fail("cannot be written", errno);
    }

    std::filesystem::path hidden_name() const
    {
        sweep_dead_writers();
        static std::atomic<unsigned long> counter{0};
        return folder_ / ("." + target_.filename().string() + marker() + std::to_string(::getpid()) + "-" +
                          std::to_string(counter++) + ".tmp");
    }
    static std::string marker()
    {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        return ".ccdx-" + std::string(host) + "-";
    }
    // Hidden files left by killed writers on this host; another host's cannot be judged.
    void sweep_dead_writers() const
    {
        const std::string mark = marker();
        std::error_code ec;
        for (std::filesystem::directory_iterator it(folder_, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            const std::size_t at = name.rfind(mark);
            if (name.size() < 5 || name[0] != '.' || at == std::string::npos || name.compare(name.size() - 4, 4, ".tmp"))
                continue;
            const long pid = std::strtol(name.c_str() + at + mark.size(), nullptr, 10);
            std::error_code ignored;
            if (pid > 0 && ::kill(static_cast<::pid_t>(pid), 0) != 0 && errno == ESRCH)
                std::filesystem::remove(it->path(), ignored);
        }
    }

    std::filesystem::path target_, folder_, named_;  // named_ empty: the file has no name yet
    const char* kind_;
    int fd_ = -1;
    std::size_t written_ = 0;
};

}  // namespace ccdx::detail

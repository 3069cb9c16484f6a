// write_into_root (root_writer.hpp): file writes inside a container's root through /proc/PID/root.
#include "runtime/container/root_writer.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tandem::container {

namespace {

namespace fs = std::filesystem;

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

private:
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    int fd_;
};

// `relative` opened below `root` as if `root` were "/": "..", absolute symlinks and magic links
// all stay inside it.
Fd open_in_root(int root, const std::string& relative, int flags) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const char* path = relative.empty() ? "." : relative.c_str();
    return Fd(static_cast<int>(::syscall(SYS_openat2, root, path, &how, sizeof how)));
}

Error io_error(const std::string& what, const std::string& target) {
    return make_error(ErrorCode::io, fmt::format("{} {} in the container: {}", what, target, std::strerror(errno)));
}

// The directory `relative` (made, with its missing parents, when absent), opened.
Result<Fd> directory(int root, const std::string& relative, const std::string& target) {
    Fd dir = open_in_root(root, relative, O_PATH | O_DIRECTORY);
    if (dir || errno != ENOENT) {
        if (!dir) return io_error("cannot open the directory of", target);
        return dir;
    }
    const fs::path path(relative);
    auto parent = directory(root, path.parent_path().string(), target);
    if (!parent) return parent.error();
    if (::mkdirat(parent->get(), path.filename().c_str(), 0755) != 0 && errno != EEXIST)
        return io_error("cannot make the directory of", target);
    dir = open_in_root(root, relative, O_PATH | O_DIRECTORY);
    if (!dir) return io_error("cannot open the directory of", target);
    return dir;
}

Status write_file(int dir, const std::string& name, const fs::path& source, const std::string& target) {
    const std::string temporary = "." + name + ".tandem-sync";
    std::error_code ec;
    const fs::file_status status = fs::symlink_status(source, ec);
    if (ec) return make_error(ErrorCode::io, fmt::format("cannot read {}: {}", source.string(), ec.message()));
    ::unlinkat(dir, temporary.c_str(), 0);
    if (fs::is_symlink(status)) {
        const auto link = fs::read_symlink(source, ec);
        if (ec || ::symlinkat(link.c_str(), dir, temporary.c_str()) != 0) return io_error("cannot link", target);
    } else if (fs::is_directory(status)) {
        if (::mkdirat(dir, name.c_str(), 0755) != 0 && errno != EEXIST) return io_error("cannot make", target);
        return Ok{};
    } else {
        std::ifstream in(source, std::ios::binary);
        std::stringstream bytes;
        bytes << in.rdbuf();
        if (!in) return make_error(ErrorCode::io, fmt::format("cannot read {}", source.string()));
        const std::string content = bytes.str();
        const auto mode = static_cast<mode_t>(status.permissions() & fs::perms::mask);
        Fd out(::openat(dir, temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
        if (!out) return io_error("cannot write", target);
        std::size_t written = 0;
        while (written < content.size()) {
            const ssize_t n = ::write(out.get(), content.data() + written, content.size() - written);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return io_error("cannot write", target);
            written += static_cast<std::size_t>(n);
        }
        ::fchmod(out.get(), mode);
    }
    if (::renameat(dir, temporary.c_str(), dir, name.c_str()) != 0) {
        ::unlinkat(dir, temporary.c_str(), 0);
        return io_error("cannot replace", target);
    }
    return Ok{};
}

std::pair<std::string, std::string> split(const std::string& target) {
    const fs::path path = fs::path(target).lexically_normal().relative_path();
    return {path.parent_path().string(), path.filename().string()};
}

}  // namespace

Status write_into_root(int pid, const std::map<std::string, fs::path>& files, const std::vector<std::string>& removed) {
    if (pid <= 0) return make_error(ErrorCode::unavailable, "the container's process is not known");
    Fd root(::open(fmt::format("/proc/{}/root", pid).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return make_error(ErrorCode::unavailable, fmt::format("/proc/{}/root: {}", pid, std::strerror(errno)));
    // The kernel must resolve inside a root (5.6 and later): tried on the root itself first.
    if (!open_in_root(root.get(), "", O_PATH | O_DIRECTORY))
        return make_error(ErrorCode::unavailable, fmt::format("openat2 in /proc/{}/root: {}", pid, std::strerror(errno)));
    for (const auto& [target, source] : files) {
        const auto [parent, name] = split(target);
        if (name.empty() || name == "." || name == "..")
            return make_error(ErrorCode::invalid_value, fmt::format("cannot sync to {}: not a file's path", target));
        auto dir = directory(root.get(), parent, target);
        if (!dir) return dir.error();
        if (auto written = write_file(dir->get(), name, source, target); !written) return written;
    }
    for (const std::string& target : removed) {
        const auto [parent, name] = split(target);
        if (name.empty() || name == "." || name == "..") continue;
        Fd dir = open_in_root(root.get(), parent, O_PATH | O_DIRECTORY);
        if (!dir) {
            if (errno == ENOENT) continue;
            return io_error("cannot open the directory of", target);
        }
        if (::unlinkat(dir.get(), name.c_str(), 0) == 0 || errno == ENOENT) continue;
        if (errno == EISDIR && (::unlinkat(dir.get(), name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT)) continue;
        return io_error("cannot remove", target);
    }
    return Ok{};
}

}  // namespace tandem::container

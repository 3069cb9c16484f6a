// Crash-safe file writes shared by the runtime state, the release history, the audit head and
// the artifact store's keys.
#include "support/durable_file.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tandem {

namespace {

std::string errno_text() { return std::strerror(errno); }

Error file_error(const std::filesystem::path& file, std::string message) {
    return make_error(ErrorCode::io, std::move(message), SourceLocation{file.string(), 0, 0});
}

// Writes `data` to a new `file` and flushes it to the disk.
Status write_synced(const std::filesystem::path& file, std::string_view data) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return file_error(file, "cannot create: " + errno_text());
    Status status = write_all(fd, data);
    if (status && ::fsync(fd) != 0) status = make_error(ErrorCode::io, "fsync failed: " + errno_text());
    if (::close(fd) != 0 && status) status = make_error(ErrorCode::io, "close failed: " + errno_text());
    if (!status) return file_error(file, status.error().message);
    return Ok{};
}

}  // namespace

Status write_all(int fd, std::string_view data) {
    std::size_t written = 0;
    while (written < data.size()) {
        const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error(ErrorCode::io, "write failed: " + errno_text());
        written += static_cast<std::size_t>(n);
    }
    return Ok{};
}

Status sync_directory(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return file_error(dir, "cannot open directory: " + errno_text());
    const bool synced = ::fsync(fd) == 0;
    const std::string reason = synced ? std::string{} : errno_text();
    ::close(fd);
    if (!synced) return file_error(dir, "fsync failed: " + reason);
    return Ok{};
}

Status replace_file_durably(const std::filesystem::path& file, std::string_view content) {
    const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return file_error(dir, "cannot create directory: " + ec.message());
    // In the same directory, so the rename is atomic; named by pid so two processes never share it.
    auto tmp = file;
    tmp += fmt::format(".tmp.{}", ::getpid());
    if (Status written = write_synced(tmp, content); !written) {
        std::filesystem::remove(tmp, ec);
        return written;
    }
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        const std::string reason = errno_text();
        std::filesystem::remove(tmp, ec);
        return file_error(file, "cannot replace: " + reason);
    }
    return sync_directory(dir);
}

}  // namespace tandem

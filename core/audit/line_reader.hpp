// Reads a file line by line in large blocks, handing out views into its buffer: fast enough
// to check 100,000 audit records well under a second.
#pragma once

#include <tandem/error.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <fcntl.h>
#include <unistd.h>

namespace tandem::audit {

// "cannot <what> <file>: <strerror(errno)>" as an ErrorCode::io error.
inline Error errno_error(const std::string& what, const std::filesystem::path& file) {
    return make_error(ErrorCode::io, "cannot " + what + " " + file.string() + ": " + std::strerror(errno));
}

struct Line {
    std::string_view text;  // without its '\n'; valid until the next call of next()
    bool whole = true;      // false for a last line with no '\n' (a torn write)
};

class LineReader {
public:
    LineReader(int fd, std::filesystem::path file) : fd_(fd), file_(std::move(file)), buffer_(kBlock, '\0') {}

    // The next line; nullopt at the end of the file.
    Result<std::optional<Line>> next() {
        for (;;) {
            if (const void* found = std::memchr(buffer_.data() + begin_, '\n', end_ - begin_)) {
                const auto at = static_cast<std::size_t>(static_cast<const char*>(found) - buffer_.data());
                const std::string_view text(buffer_.data() + begin_, at - begin_);
                begin_ = at + 1;
                return std::optional<Line>(Line{text, true});
            }
            auto more = fill();
            if (!more) return more.error();
            if (*more) continue;
            if (begin_ == end_) return std::optional<Line>();
            const std::string_view rest(buffer_.data() + begin_, end_ - begin_);
            begin_ = end_;
            return std::optional<Line>(Line{rest, false});
        }
    }

private:
    static constexpr std::size_t kBlock = 1 << 20;

    // Moves the partial line to the front and reads more; false at the end of the file.
    Result<bool> fill() {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a line longer than a block
        for (;;) {
            const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return errno_error("read", file_);
            end_ += static_cast<std::size_t>(n);
            return n > 0;
        }
    }

    int fd_;
    std::filesystem::path file_;
    std::string buffer_;
    std::size_t begin_ = 0, end_ = 0;
};

// Calls `each(line)` for every line of `file` in order (a missing file has none); an error
// when it cannot be read.
template <class Each>
Status for_each_line(const std::filesystem::path& file, Each&& each) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return Ok{};
    if (fd < 0) return errno_error("open", file);
    LineReader reader(fd, file);
    for (;;) {
        auto line = reader.next();
        if (!line || !*line) {
            ::close(fd);
            return line ? Status(Ok{}) : Status(line.error());
        }
        each(**line);
    }
}

}  // namespace tandem::audit

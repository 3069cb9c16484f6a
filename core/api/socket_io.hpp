// Small blocking helpers over Unix stream sockets, for the control socket's server and client.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::control {

// Writes all of `data`; false once the peer is gone (never raises SIGPIPE).
bool send_all(int fd, std::string_view data);

// A connected AF_UNIX stream socket to `path`, or -1 with errno set. Paths too long for
// sockaddr_un give -1 with errno ENAMETOOLONG.
int connect_unix(const std::filesystem::path& path);

// Splits a byte stream into lines, keeping what is left of a partial line between reads.
class LineReader {
public:
    explicit LineReader(int fd) : fd_(fd) {}
    // The next line without its newline; nothing at the end of the stream or on an error. A
    // last line without a newline is returned too.
    std::optional<std::string> next();

private:
    int fd_;
    std::string buffer_;
    bool eof_ = false;
};

}  // namespace tandem::control

// The control socket's client: what `devloop status`, `logs`, `down`, `reset` and `trigger`
// use to reach the running engine.
#include <tandem/control.hpp>

#include "api/control_protocol.hpp"
#include "api/socket_io.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>
#include <utility>

namespace tandem {

Result<ControlClient> ControlClient::connect(const std::filesystem::path& socket_path) {
    const int fd = control::connect_unix(socket_path);
    if (fd >= 0) return ControlClient(fd);
    // ECONNREFUSED: a socket file an engine left behind when it died.
    if (errno == ENOENT || errno == ECONNREFUSED) return control::no_engine_error(socket_path);
    return make_error(ErrorCode::io, "cannot connect to the engine at " + socket_path.string() + ": " +
                                         std::strerror(errno));
}

ControlClient::ControlClient(int fd) : fd_(fd) {}

ControlClient::ControlClient(ControlClient&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

ControlClient& ControlClient::operator=(ControlClient&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

ControlClient::~ControlClient() {
    if (fd_ >= 0) ::close(fd_);
}

Status ControlClient::call(const ControlRequest& request,
                           const std::function<void(const std::string& line)>& on_line) {
    if (fd_ < 0) return make_error(ErrorCode::io, "the connection to the engine is closed");
    if (!control::send_all(fd_, control::request_line(request)))
        return make_error(ErrorCode::io, "the engine closed the connection before reading the request");
    // No shutdown(SHUT_WR) here: for `logs --follow` the engine reads the end of the stream as
    // the client having gone.
    control::LineReader reader(fd_);
    bool replied = false;
    while (auto line = reader.next()) {
        if (line->empty()) continue;
        replied = true;
        if (auto error = control::reply_error(*line)) return *error;
        if (on_line) on_line(*line);
    }
    if (!replied && request.command != "logs")
        return make_error(ErrorCode::io, "the engine closed the connection without a reply");
    return Ok{};
}

}  // namespace tandem

// A control socket session: one request in, reply lines out, the connection closed after.
#include "api/control_session.hpp"

#include "api/control_protocol.hpp"
#include "api/socket_io.hpp"

#include <algorithm>
#include <cerrno>
#include <deque>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tandem::control {

namespace {

constexpr int kRequestTimeoutMs = 10'000;
constexpr std::size_t kMaxQueuedLines = 10'000;  // a follower that falls this far behind loses lines

enum class Wait { readable, stopped, timed_out };

// Waits for `fd` to become readable (or hung up) unless the server stops first.
Wait wait_readable(int fd, int wake_fd, int timeout_ms) {
    for (;;) {
        pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
        const int n = ::poll(fds, 2, timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) return Wait::timed_out;
        if (n < 0 || fds[1].revents != 0) return Wait::stopped;
        return Wait::readable;
    }
}

// The request line; an Error to send back; or nothing when the client left or the server stops.
std::optional<Result<std::string>> read_request(int fd, int wake_fd) {
    std::string buffer;
    for (;;) {
        if (const auto end = buffer.find('\n'); end != std::string::npos) return Result<std::string>(buffer.substr(0, end));
        if (buffer.size() > kMaxRequestBytes)
            return Result<std::string>(make_error(ErrorCode::usage, "malformed request: longer than " +
                                                                        std::to_string(kMaxRequestBytes) + " bytes"));
        const Wait wait = wait_readable(fd, wake_fd, kRequestTimeoutMs);
        if (wait == Wait::stopped) return std::nullopt;
        if (wait == Wait::timed_out)
            return Result<std::string>(make_error(ErrorCode::usage, "no request within 10s"));
        char chunk[4096];
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) {
            if (buffer.empty()) return std::nullopt;
            return Result<std::string>(std::move(buffer));  // a request without its newline still counts
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

// The reply of an operation: its document on one line, or each line as {"line": ...}; or the error.
bool send_reply(int fd, const EngineOperation& operation, const Result<OperationReply>& reply) {
    if (!reply) return send_all(fd, error_line(reply.error()));
    if (operation.reply == EngineOperation::Reply::document) {
        std::string line = reply->document;
        std::replace(line.begin(), line.end(), '\n', ' ');
        return send_all(fd, line + "\n");
    }
    bool open = true;
    for (const auto& line : reply->lines)
        if (open) open = send_all(fd, log_line(line));
    return open;
}

// Who is on the other end of the socket, from the kernel's record of the peer.
std::string peer_actor(int fd) {
    ucred credentials{};
    socklen_t size = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) return "user (unknown)";
    std::string name = "uid " + std::to_string(credentials.uid);
    passwd entry{};
    passwd* found = nullptr;
    char buffer[1024];
    if (::getpwuid_r(credentials.uid, &entry, buffer, sizeof buffer, &found) == 0 && found) name = found->pw_name;
    return "user " + name + " (pid " + std::to_string(credentials.pid) + ")";
}

// Lines pushed by the handler's sink (on the engine's threads), written by the session thread.
struct FollowQueue {
    std::mutex mutex;
    std::deque<std::string> lines;
    std::size_t dropped = 0;
    int notify[2] = {-1, -1};  // a byte in the pipe: lines are waiting

    ~FollowQueue() {
        for (int fd : notify)
            if (fd >= 0) ::close(fd);
    }
    void push(const std::string& line) {
        std::lock_guard lock(mutex);
        if (lines.size() >= kMaxQueuedLines) ++dropped;
        else lines.push_back(line);
        const char byte = 1;
        [[maybe_unused]] const ssize_t n = ::write(notify[1], &byte, 1);  // a full pipe already says it
    }
    std::deque<std::string> take() {
        char drain[256];
        while (::read(notify[0], drain, sizeof drain) > 0) {
        }
        std::lock_guard lock(mutex);
        if (dropped > 0) {
            lines.push_front("[tandem: " + std::to_string(dropped) + " lines dropped: the client read too slowly]");
            dropped = 0;
        }
        return std::exchange(lines, {});
    }
};

// Streams new lines until the client hangs up or the server stops.
void stream_follow(int fd, int wake_fd, FollowQueue& queue) {
    for (;;) {
        pollfd fds[3] = {{fd, POLLIN, 0}, {queue.notify[0], POLLIN, 0}, {wake_fd, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[2].revents != 0) return;
        if (fds[0].revents != 0) {
            char ignored[256];
            const ssize_t n = ::recv(fd, ignored, sizeof ignored, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
        }
        if (fds[1].revents != 0)
            for (const auto& line : queue.take())
                if (!send_all(fd, log_line(line))) return;
    }
}

// logs --follow: following starts before the tail is read, so no line falls between the two
// (one may show twice).
void serve_follow(int fd, int wake_fd, ControlHandler& handler, const EngineOperation& logs,
                  const ControlRequest& request) {
    if (auto allowed = admissible(handler, logs, request); !allowed) {
        send_all(fd, error_line(allowed.error()));
        return;
    }
    auto queue = std::make_shared<FollowQueue>();
    if (::pipe2(queue->notify, O_CLOEXEC | O_NONBLOCK) != 0) {
        send_all(fd, error_line(make_error(ErrorCode::io, "cannot follow logs: out of file descriptors")));
        return;
    }
    const int follow_id = handler.follow_logs(request.service, [queue](const std::string& line) { queue->push(line); });
    const auto tail = logs.run(handler, request);
    if (send_reply(fd, logs, tail) && tail) stream_follow(fd, wake_fd, *queue);
    handler.unfollow(follow_id);
}

void dispatch(int fd, int wake_fd, ControlHandler& handler, const ControlRequest& request) {
    const EngineOperation* operation = find_operation(request.command);
    if (!operation) {
        send_all(fd, error_line(make_error(ErrorCode::usage, "unknown command '" + request.command +
                                                                 "' (commands: " + operation_names() + ")")));
        return;
    }
    if (request.follow && operation->argument("follow")) serve_follow(fd, wake_fd, handler, *operation, request);
    else send_reply(fd, *operation, perform(handler, *operation, request));
}

}  // namespace

void serve_session(int client_fd, int wake_fd, ControlHandler& handler) {
    auto line = read_request(client_fd, wake_fd);
    if (!line) return;
    if (!*line) {
        send_all(client_fd, error_line(line->error()));
        return;
    }
    auto request = parse_request(line->value());
    if (!request) {
        send_all(client_fd, error_line(request.error()));
        return;
    }
    request->actor = peer_actor(client_fd);
    dispatch(client_fd, wake_fd, handler, *request);
}

}  // namespace tandem::control

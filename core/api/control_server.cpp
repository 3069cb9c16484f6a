// The control socket's server: listens on a Unix socket on a thread of its own and serves
// each client on a thread of its own (see control_session.cpp for what a client gets).
#include <tandem/control.hpp>

#include "api/control_session.hpp"
#include "api/socket_io.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <list>
#include <mutex>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace tandem {

namespace fs = std::filesystem;

namespace {

struct Session {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
};

Error socket_error(const fs::path& path, const std::string& what) {
    return make_error(ErrorCode::io, "control socket " + path.string() + ": " + what + ": " + std::strerror(errno));
}

// A socket file already there is either a live engine (an error) or left by a dead one (removed).
Status clear_stale_socket(const fs::path& path) {
    std::error_code ec;
    const auto status = fs::symlink_status(path, ec);
    if (ec || !fs::exists(status)) return Ok{};
    if (!fs::is_socket(status))
        return make_error(ErrorCode::io, path.string() + " exists and is not a socket: remove it and start again");
    const int probe = control::connect_unix(path);
    if (probe >= 0) {
        ::close(probe);
        return make_error(ErrorCode::io, "an engine is already running for this project (socket " + path.string() + ")");
    }
    if (errno != ECONNREFUSED && errno != ENOENT) return socket_error(path, "cannot check the existing socket");
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return socket_error(path, "cannot remove the stale socket");
    return Ok{};
}

Result<int> listen_on(const fs::path& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string text = path.string();
    if (text.size() >= sizeof address.sun_path)
        return make_error(ErrorCode::io, "control socket path " + text + " is longer than " +
                                             std::to_string(sizeof address.sun_path - 1) + " bytes");
    std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    if (ec) return make_error(ErrorCode::io, "cannot create " + path.parent_path().string() + ": " + ec.message());
    if (auto cleared = clear_stale_socket(path); !cleared) return cleared.error();

    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return socket_error(path, "cannot create a socket");
    // chmod before listen: nobody can connect in between, and afterwards only this user can.
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::chmod(text.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
        Error error = socket_error(path, "cannot listen");
        ::close(fd);
        return error;
    }
    return fd;
}

}  // namespace

struct ControlServer::State {
    fs::path path;
    ControlHandler* handler = nullptr;
    int listen_fd = -1;
    int wake[2] = {-1, -1};  // written once when the server stops; never drained, so every poller sees it
    std::thread acceptor;
    std::mutex mutex;
    std::list<std::unique_ptr<Session>> sessions;

    void accept_loop();
    void start_session(int fd);
    void reap_finished_sessions();
};

void ControlServer::State::accept_loop() {
    for (;;) {
        pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0) return;
        const int client = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;  // the client gave up already, or out of descriptors for a moment
        reap_finished_sessions();
        start_session(client);
    }
}

void ControlServer::State::start_session(int fd) {
    auto session = std::make_unique<Session>();
    session->fd = fd;
    Session* raw = session.get();
    std::lock_guard lock(mutex);
    sessions.push_back(std::move(session));
    raw->thread = std::thread([this, raw] {
        control::serve_session(raw->fd, wake[0], *handler);
        ::shutdown(raw->fd, SHUT_RDWR);  // the client sees the end of the reply now, not at reaping
        raw->done = true;
    });
}

void ControlServer::State::reap_finished_sessions() {
    std::list<std::unique_ptr<Session>> finished;
    {
        std::lock_guard lock(mutex);
        for (auto it = sessions.begin(); it != sessions.end();) {
            if ((*it)->done) finished.splice(finished.end(), sessions, it++);
            else ++it;
        }
    }
    for (auto& session : finished) {
        session->thread.join();
        ::close(session->fd);
    }
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(const fs::path& socket_path, ControlHandler& handler) {
    auto state = std::make_unique<State>();
    state->path = socket_path;
    state->handler = &handler;
    if (::pipe2(state->wake, O_CLOEXEC) != 0) return socket_error(socket_path, "cannot create a pipe");
    auto fd = listen_on(socket_path);
    if (!fd) {
        ::close(state->wake[0]);
        ::close(state->wake[1]);
        return fd.error();
    }
    state->listen_fd = *fd;
    State* raw = state.get();
    state->acceptor = std::thread([raw] { raw->accept_loop(); });
    return std::make_unique<ControlServer>(std::move(state));
}

ControlServer::ControlServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

ControlServer::~ControlServer() {
    if (!state_) return;
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(state_->wake[1], &byte, 1);
    state_->acceptor.join();
    std::list<std::unique_ptr<Session>> sessions;
    {
        std::lock_guard lock(state_->mutex);
        sessions.swap(state_->sessions);
    }
    for (auto& session : sessions) ::shutdown(session->fd, SHUT_RDWR);  // ends blocked sends and reads
    for (auto& session : sessions) {
        session->thread.join();
        ::close(session->fd);
    }
    ::close(state_->listen_fd);
    ::unlink(state_->path.c_str());
    ::close(state_->wake[0]);
    ::close(state_->wake[1]);
}

}  // namespace tandem

// Test helpers for the proxy and the probes: an event loop on its own thread, small servers on
// 127.0.0.1 that run on it (echo, HTTP status, silent), and a blocking client with deadlines.
// Header-only because the test area's CMake globs *_test.cpp only.
#pragma once

#include "support/asio.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tandem::test {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// An io_context running on a thread of its own for the life of the object. The objects under
// test live on it; the test body talks to them through call().
class LoopThread {
public:
    LoopThread() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
    ~LoopThread() {
        work_.reset();
        io_.stop();
        thread_.join();
    }
    asio::io_context& io() { return io_; }

    // Runs `fn` on the loop and returns its result.
    template <class Fn>
    auto call(Fn fn) -> decltype(fn()) {
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto result = task.get_future();
        asio::post(io_, [&task] { task(); });
        return result.get();
    }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
};

// Polls `condition` until it holds or `limit` passes; true if it held.
inline bool eventually(const std::function<bool()>& condition, milliseconds limit = milliseconds(5000)) {
    auto deadline = Clock::now() + limit;
    while (!condition()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(milliseconds(5));
    }
    return true;
}

// A server on 127.0.0.1 that lives on the loop: create, use and destroy it on the loop.
class LoopbackServer {
public:
    enum class Behaviour {
        echo,         // sends `greeting` first, then echoes; half-closes on EOF
        http_status,  // reads a request, answers "HTTP/1.0 <status>", closes
        silent,       // accepts and never says anything
        slow_body,    // reads a request, answers its headers, then 300 ms later its body, closes
    };

    LoopbackServer(asio::io_context& io, Behaviour behaviour, std::string greeting = {}, int status = 200)
        : shared_(std::make_shared<Shared>(io)) {
        shared_->behaviour = behaviour;
        shared_->greeting = std::move(greeting);
        shared_->status = status;
        auto& acceptor = shared_->acceptor;
        acceptor.open(tcp::v4());
        acceptor.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        acceptor.listen();
        port_ = acceptor.local_endpoint().port();
        accept(shared_);
    }
    ~LoopbackServer() { shut_down(); }
    int port() const { return port_; }
    std::size_t accepted() const { return shared_->accepted; }

    // Stops listening and closes every connection: the port now refuses.
    void shut_down() {
        boost::system::error_code ignored;
        shared_->acceptor.close(ignored);
        for (auto& weak : shared_->sockets)
            if (auto socket = weak.lock()) socket->close(ignored);
        shared_->sockets.clear();
    }

private:
    struct Shared {
        explicit Shared(asio::io_context& io) : acceptor(io) {}
        tcp::acceptor acceptor;
        Behaviour behaviour = Behaviour::echo;
        std::string greeting;
        int status = 200;
        std::size_t accepted = 0;
        std::vector<std::weak_ptr<tcp::socket>> sockets;
    };

    struct Session {
        std::shared_ptr<tcp::socket> socket;
        std::array<char, 16384> buffer{};
        std::string text;
    };

    static void accept(std::shared_ptr<Shared> shared) {
        shared->acceptor.async_accept([shared](const boost::system::error_code& ec, tcp::socket socket) {
            if (ec) return;
            ++shared->accepted;
            auto session = std::make_shared<Session>();
            session->socket = std::make_shared<tcp::socket>(std::move(socket));
            shared->sockets.push_back(session->socket);
            if (shared->behaviour == Behaviour::echo) {
                session->text = shared->greeting;
                if (session->text.empty()) echo(session);
                else asio::async_write(*session->socket, asio::buffer(session->text),
                                       [session](const boost::system::error_code&, std::size_t) { echo(session); });
            } else if (shared->behaviour == Behaviour::http_status) {
                answer_http(session, shared->status);
            } else if (shared->behaviour == Behaviour::slow_body) {
                answer_slowly(session);
            } else {
                session->socket->async_wait(tcp::socket::wait_error, [session](const boost::system::error_code&) {});
            }
            accept(shared);
        });
    }

    static void echo(std::shared_ptr<Session> session) {
        session->socket->async_read_some(
            asio::buffer(session->buffer), [session](const boost::system::error_code& ec, std::size_t n) {
                if (ec == asio::error::eof) {
                    boost::system::error_code ignored;
                    session->socket->shutdown(tcp::socket::shutdown_send, ignored);
                    return;
                }
                if (ec) return;
                asio::async_write(*session->socket, asio::buffer(session->buffer.data(), n),
                                  [session](const boost::system::error_code& wec, std::size_t) {
                                      if (!wec) echo(session);
                                  });
            });
    }

    static void answer_http(std::shared_ptr<Session> session, int status) {
        asio::async_read_until(
            *session->socket, asio::dynamic_buffer(session->text), "\r\n\r\n",
            [session, status](const boost::system::error_code& ec, std::size_t) {
                if (ec) return;
                session->text = "HTTP/1.0 " + std::to_string(status) + " Test\r\nContent-Length: 0\r\n\r\n";
                asio::async_write(*session->socket, asio::buffer(session->text),
                                  [session](const boost::system::error_code&, std::size_t) {
                                      boost::system::error_code ignored;
                                      session->socket->close(ignored);
                                  });
            });
    }

    static void answer_slowly(std::shared_ptr<Session> session) {
        asio::async_read_until(
            *session->socket, asio::dynamic_buffer(session->text), "\r\n\r\n",
            [session](const boost::system::error_code& ec, std::size_t) {
                if (ec) return;
                session->text = "HTTP/1.0 200 Test\r\nContent-Length: 4\r\n\r\n";
                asio::async_write(*session->socket, asio::buffer(session->text), [session](const boost::system::error_code&, std::size_t) {
                    auto timer = std::make_shared<asio::steady_timer>(session->socket->get_executor(),
                                                                     std::chrono::milliseconds(300));
                    timer->async_wait([session, timer](const boost::system::error_code&) {
                        session->text = "body";
                        asio::async_write(*session->socket, asio::buffer(session->text),
                                          [session](const boost::system::error_code&, std::size_t) {
                                              boost::system::error_code ignored;
                                              session->socket->close(ignored);
                                          });
                    });
                });
            });
    }

    std::shared_ptr<Shared> shared_;
    int port_ = 0;
};

// A port that refuses connections: bound once to find a free one, then released.
inline int refused_port() {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    return acceptor.local_endpoint().port();
}

// A blocking POSIX client with deadlines, used from the test's own thread.
class RawClient {
public:
    RawClient() = default;
    ~RawClient() { close(); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool connect(int port) {
        close();
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<std::uint16_t>(port));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
    }

    bool send(const std::string& data) {
        std::size_t sent = 0;
        while (sent < data.size()) {
            ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    // Up to `n` bytes, or fewer if the peer closes or the deadline passes.
    std::string receive(std::size_t n, milliseconds limit = milliseconds(5000)) {
        std::string got;
        auto deadline = Clock::now() + limit;
        char buffer[16384];
        while (got.size() < n && wait_readable(deadline)) {
            ssize_t r = ::recv(fd_, buffer, std::min(sizeof buffer, n - got.size()), 0);
            if (r <= 0) break;
            got.append(buffer, static_cast<std::size_t>(r));
        }
        return got;
    }

    // True once the peer has closed (EOF or reset) within the limit; data read meanwhile is dropped.
    bool closed_by_peer(milliseconds limit = milliseconds(5000)) {
        auto deadline = Clock::now() + limit;
        char buffer[4096];
        while (wait_readable(deadline))
            if (::recv(fd_, buffer, sizeof buffer, 0) <= 0) return true;
        return false;
    }

    void shutdown_send() { ::shutdown(fd_, SHUT_WR); }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    // Sends `payload`, half-closes, and reads everything back until EOF, both at once.
    std::optional<std::string> exchange(const std::string& payload, milliseconds limit = milliseconds(20000)) {
        std::string got;
        std::size_t sent = 0;
        auto deadline = Clock::now() + limit;
        char buffer[65536];
        while (Clock::now() < deadline) {
            pollfd pfd{fd_, static_cast<short>(POLLIN | (sent < payload.size() ? POLLOUT : 0)), 0};
            if (::poll(&pfd, 1, 100) < 0) return std::nullopt;
            if (pfd.revents & POLLOUT) {
                ssize_t n = ::send(fd_, payload.data() + sent, std::min<std::size_t>(65536, payload.size() - sent),
                                   MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno != EAGAIN) return std::nullopt;
                if (n > 0 && (sent += static_cast<std::size_t>(n)) == payload.size()) shutdown_send();
            }
            if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
                if (n == 0) return got;
                if (n < 0 && errno != EAGAIN) return std::nullopt;
                if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
            }
        }
        return std::nullopt;
    }

private:
    bool wait_readable(Clock::time_point deadline) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd pfd{fd_, POLLIN, 0};
        return ::poll(&pfd, 1, static_cast<int>(left)) > 0;
    }

    int fd_ = -1;
};

inline std::string random_bytes(std::size_t n) {
    std::mt19937 generator(42);
    std::string bytes(n, '\0');
    for (auto& byte : bytes) byte = static_cast<char>(generator() & 0xff);
    return bytes;
}

}  // namespace tandem::test

// Tests of the previews' router against real sockets: two small HTTP backends on 127.0.0.1, the
// router in front of them, and clients that write raw requests (the Host header is theirs to set).
#include "preview/host_router.hpp"

#include "support/free_port.hpp"
#include "support/http_client.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

using tandem::detail::HostRouter;
using tandem::detail::request_host;
using namespace tandem::test;

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A socket listening on 127.0.0.1:port (0: any free port), without SO_REUSEADDR.
int listen_on(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    return fd;
}

int port_of(int fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
}

int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    const timeval five_seconds{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
    return fd;
}

bool send_all(int fd, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

// Reads until the peer closes (then *ended is set) or 5 s pass without a byte, or until `done`
// says it has all.
std::string receive(int fd, const std::function<bool(const std::string&)>& done = {}, bool* ended = nullptr) {
    std::string received;
    char buffer[16384];
    while (!done || !done(received)) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (ended) *ended = n == 0;
        if (n <= 0) break;
        received.append(buffer, static_cast<std::size_t>(n));
    }
    return received;
}

// The Content-Length of an HTTP head, or -1.
long content_length(const std::string& head) {
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("\r\ncontent-length:");
    return at == std::string::npos ? -1 : std::atol(lower.c_str() + at + 17);
}

// A plain HTTP server in a thread of its own: per connection it reads one request (its head, then
// Content-Length bytes of body, or a POST's body up to the client's half-close) and answers
// "<name> got <n> bytes", then closes.
class TestBackend {
public:
    explicit TestBackend(std::string name) : name_(std::move(name)), fd_(listen_on(0)), thread_([this] { serve(); }) {}
    ~TestBackend() {
        stopping_ = true;
        ::shutdown(fd_, SHUT_RDWR);  // wakes the accept
        thread_.join();
        ::close(fd_);
    }
    int port() const { return port_of(fd_); }
    int requests() const { return requests_; }
    std::string last_head() const {
        std::lock_guard lock(mutex_);
        return last_head_;
    }

private:
    void serve() {
        while (!stopping_) {
            const int client = ::accept(fd_, nullptr, nullptr);
            if (client < 0) continue;
            const timeval five_seconds{5, 0};
            ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
            answer(client);
            ::close(client);
        }
    }

    void answer(int client) {
        std::string request = receive(client, [](const std::string& r) { return r.find("\r\n\r\n") != std::string::npos; });
        const auto head_end = request.find("\r\n\r\n");
        if (head_end == std::string::npos) return;
        const std::string head = request.substr(0, head_end + 2);
        const long length = content_length(head);
        std::string body = request.substr(head_end + 4);
        bool ended = true;
        if (length >= 0) {
            body += receive(client, [&](const std::string& more) {
                return body.size() + more.size() >= static_cast<std::size_t>(length);
            });
        } else if (head.starts_with("POST ")) {
            body += receive(client, {}, &ended);  // up to the client's half-close
        }
        {
            std::lock_guard lock(mutex_);
            last_head_ = head;
        }
        ++requests_;
        const std::string text = ended ? name_ + " got " + std::to_string(body.size()) + " bytes" : name_ + " saw no end";
        send_all(client, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(text.size()) +
                             "\r\nConnection: close\r\n\r\n" + text);
    }

    std::string name_;
    int fd_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> requests_{0};
    mutable std::mutex mutex_;
    std::string last_head_;
    std::thread thread_;
};

// The router in front of backends a and b; "down.localhost" names a port nothing listens on and
// "silent.localhost" one whose listener never accepts (connections wait in its backlog).
struct Previews {
    TestBackend a{"a"};
    TestBackend b{"b"};
    int down_port = free_port();
    int silent_fd = listen_on(0);
    std::unique_ptr<HostRouter> router;

    Previews() {
        auto started = HostRouter::start({}, [this](const std::string& host) { return resolve(host); },
                                         [](const std::string& host) { return "no preview serves " + host + "; there are: a, b\n"; });
        REQUIRE(started.ok());
        router = std::move(started.value());
    }
    ~Previews() {
        router.reset();
        ::close(silent_fd);
    }

    std::optional<int> resolve(const std::string& host) const {
        if (host == "a.localhost") return a.port();
        if (host == "b.localhost") return b.port();
        if (host == "down.localhost") return down_port;
        if (host == "silent.localhost") return port_of(silent_fd);
        return std::nullopt;
    }

    // Sends `request` on a connection of its own (then half-closes it if asked) and reads the reply.
    HttpReply exchange(const std::string& request, bool half_close = false) const {
        const int fd = connect_to(router->port());
        REQUIRE(fd >= 0);
        CHECK(send_all(fd, request));
        if (half_close) ::shutdown(fd, SHUT_WR);
        const std::string received = receive(fd);
        ::close(fd);
        auto reply = parse_http_reply(received);
        REQUIRE_MESSAGE(reply.has_value(), "no HTTP reply in '" << received << "'");
        return *reply;
    }
};

std::string get(const std::string& host) { return "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"; }

}  // namespace

TEST_CASE("each host reaches its own preview's backend") {
    Previews previews;
    const HttpReply from_a = previews.exchange(get("a.localhost"));
    CHECK(from_a.status == 200);
    CHECK(from_a.body == "a got 0 bytes");
    const HttpReply from_b = previews.exchange(get("b.localhost"));
    CHECK(from_b.status == 200);
    CHECK(from_b.body == "b got 0 bytes");
    CHECK(previews.router->stats().routed == 2);
    CHECK(previews.router->stats().accepted == 2);
}

TEST_CASE("a Host with a port and in upper case is routed by its name and passed on unchanged") {
    Previews previews;
    const HttpReply reply = previews.exchange(get("B.LocalHost:8080"));
    CHECK(reply.status == 200);
    CHECK(reply.body == "b got 0 bytes");
    CHECK(previews.b.last_head().find("\r\nHost: B.LocalHost:8080\r\n") != std::string::npos);
    CHECK(previews.a.requests() == 0);
}

TEST_CASE("an unknown host gets a 404 page with the not-found text") {
    Previews previews;
    const HttpReply reply = previews.exchange(get("Nope.localhost:8080"));
    CHECK(reply.status == 404);
    CHECK(reply.header("Content-Type") == "text/plain; charset=utf-8");
    CHECK(reply.body == "no preview serves nope.localhost; there are: a, b\n");
    CHECK(reply.header("Content-Length") == std::to_string(reply.body.size()));
    CHECK(previews.router->stats().not_found == 1);
    CHECK(previews.a.requests() + previews.b.requests() == 0);
}

TEST_CASE("a request without a Host header gets a 400") {
    Previews previews;
    const HttpReply reply = previews.exchange("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n");
    CHECK(reply.status == 400);
    CHECK(previews.router->stats().bad_requests == 1);
    CHECK(previews.a.requests() + previews.b.requests() == 0);
}

TEST_CASE("a preview whose backend is down gets a 502 naming its host") {
    Previews previews;
    const HttpReply reply = previews.exchange(get("down.localhost"));
    CHECK(reply.status == 502);
    CHECK(reply.body.find("down.localhost") != std::string::npos);
    CHECK(reply.body.find("not answering") != std::string::npos);
    CHECK(reply.body.find('\n') == reply.body.size() - 1);  // one line
    CHECK(previews.router->stats().backend_errors == 1);
}

TEST_CASE("a 1 MiB request body arrives whole at the backend") {
    Previews previews;
    const std::string body(1024 * 1024, 'x');
    const HttpReply reply = previews.exchange("POST /upload HTTP/1.1\r\nHost: a.localhost\r\nContent-Length: " +
                                              std::to_string(body.size()) + "\r\n\r\n" + body);
    CHECK(reply.status == 200);
    CHECK(reply.body == "a got 1048576 bytes");
}

TEST_CASE("a client's half-close reaches the backend and its answer still comes back") {
    Previews previews;
    // No Content-Length: the backend reads the body until the end of the stream.
    const HttpReply reply = previews.exchange("POST / HTTP/1.0\r\nHost: a.localhost\r\n\r\nhello", true);
    CHECK(reply.status == 200);
    CHECK(reply.body == "a got 5 bytes");
}

TEST_CASE("a request head over 16 KiB gets a 431 and reaches no backend") {
    Previews previews;
    const auto request_with_filler = [](std::size_t filler) {
        return "GET / HTTP/1.1\r\nHost: a.localhost\r\nX-Filler: " + std::string(filler, 'f') + "\r\n\r\n";
    };
    CHECK(previews.exchange(request_with_filler(15 * 1024)).status == 200);  // under the limit: served
    CHECK(previews.a.requests() == 1);
    const HttpReply reply = previews.exchange(request_with_filler(20 * 1024));
    CHECK(reply.status == 431);
    CHECK(previews.a.requests() == 1);
    CHECK(previews.router->stats().bad_requests == 1);
}

TEST_CASE("the router's destructor closes open connections and returns promptly") {
    Previews previews;
    RawConnection waiting(previews.router->port());  // half a head: the router waits for the rest
    REQUIRE(waiting.send("GET / HTTP/1.1\r\nHost: a.loc"));
    RawConnection spliced(previews.router->port());  // routed to a backend that never answers
    REQUIRE(spliced.send(get("silent.localhost")));
    REQUIRE(eventually([&] { return previews.router->stats().routed == 1; }, 5000ms));
    REQUIRE(previews.router->stats().accepted == 2);

    const auto before = Clock::now();
    previews.router.reset();
    CHECK(Clock::now() - before < 1s);
    CHECK(waiting.closed_by_server(2000ms));
    CHECK(spliced.closed_by_server(2000ms));
}

TEST_CASE("listening on a port already in use gives an error naming the address and port") {
    const int taken = listen_on(0);
    const int port = port_of(taken);
    HostRouter::Options options;
    options.port = port;
    auto started = HostRouter::start(
        options, [](const std::string&) { return std::optional<int>(); }, [](const std::string&) { return std::string(); });
    ::close(taken);
    REQUIRE_FALSE(started.ok());
    const std::string message = started.error().message;
    CHECK(message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
    CHECK(message.find("in use") != std::string::npos);
}

TEST_CASE("request_host reads the Host header by any case and strips the port") {
    CHECK(request_host("GET / HTTP/1.1\r\nHost: a.localhost\r\n\r\n") == "a.localhost");
    CHECK(request_host("GET / HTTP/1.1\r\nAccept: */*\r\nhOsT:\t Feature-X.LocalHost:8080 \r\n\r\n") ==
          "feature-x.localhost");
    CHECK(request_host("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n") == "[::1]");
    CHECK(request_host("GET / HTTP/1.1\nHost: api.b.localhost\n\n") == "api.b.localhost");
    CHECK(request_host("GET / HTTP/1.1\r\nX-Host: a.localhost\r\n\r\n") == std::nullopt);
    CHECK(request_host("GET / HTTP/1.1\r\nHost:  \r\n\r\n") == std::nullopt);
    CHECK(request_host("GET / HTTP/1.1\r\nHost: a.localhost\r\nHost: b.localhost\r\n\r\n") == std::nullopt);
}

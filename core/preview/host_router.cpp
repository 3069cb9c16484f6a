// The previews' router: accepts on one port, reads each connection's first request head, picks
// the backend its Host names and splices the connection to it (or answers 400, 404, 431 or 502).
#include "preview/host_router.hpp"

#include "support/asio.hpp"

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <thread>
#include <unordered_set>
#include <utility>

namespace tandem::detail {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::redirect_error;
using asio::use_awaitable;
using boost::system::error_code;

namespace {

constexpr std::size_t kMaxHead = 16 * 1024;
constexpr std::size_t kChunk = 16 * 1024;
constexpr auto kHeadTimeout = std::chrono::seconds(10);
constexpr auto kConnectTimeout = std::chrono::seconds(5);
// A refused client may still be sending (a body, the rest of a long head): the router reads and
// drops that much for that long after its answer, so that closing does not reset the connection
// before the client has read the answer.
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 1024 * 1024;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

struct Connection;

std::string lowercase(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower;
}

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// "a.localhost:8080" -> "a.localhost", "[::1]:80" -> "[::1]"; "" when nothing is left.
std::string without_port(std::string_view value) {
    if (value.starts_with('[')) {
        const auto close = value.find(']');
        return close == std::string_view::npos ? std::string() : lowercase(value.substr(0, close + 1));
    }
    return lowercase(value.substr(0, value.find(':')));
}

// The length of the request head in `received` up to and with its blank line; 0 when incomplete.
std::size_t head_length(const std::string& received) {
    const auto crlf = received.find("\r\n\r\n");
    const auto lf = received.find("\n\n");  // bare newlines, from a hand-typed request
    if (crlf == std::string::npos && lf == std::string::npos) return 0;
    if (lf == std::string::npos || (crlf != std::string::npos && crlf < lf)) return crlf + 4;
    return lf + 2;
}

std::string answer_text(std::string_view status, const std::string& body) {
    return "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

struct HostRouter::Impl {
    Impl(Resolve resolve, NotFound text_for_unknown)
        : acceptor(io), accept_pause(io), resolve_host(std::move(resolve)), not_found_text(std::move(text_for_unknown)) {}

    void shut_down();

    asio::io_context io{1};
    tcp::acceptor acceptor;
    asio::steady_timer accept_pause;
    Resolve resolve_host;
    NotFound not_found_text;
    bool closing = false;                          // the router's thread only
    std::unordered_set<Connection*> connections;  // likewise: every open one, to close them all
    std::atomic<std::uint64_t> accepted{0}, routed{0}, not_found{0}, bad_requests{0}, backend_errors{0},
        accept_errors{0};
    std::thread thread;
};

namespace {

// One client connection and, once its host is resolved, its backend. Owned by the coroutines
// working on it; a deadline (reading the head, connecting) runs an action unless disarmed first.
struct Connection : std::enable_shared_from_this<Connection> {
    Connection(HostRouter::Impl& owner, tcp::socket socket)
        : router(owner), client(std::move(socket)), backend(owner.io), deadline(owner.io) {
        router.connections.insert(this);
    }
    ~Connection() { router.connections.erase(this); }

    // Both sockets closed: every pending operation ends with operation_aborted.
    void close() {
        closed = true;
        disarm();
        error_code ignored;
        client.close(ignored);
        backend.close(ignored);
    }

    void arm(std::chrono::steady_clock::duration after, std::function<void()> action) {
        deadline_passed = false;
        deadline.expires_after(after);
        deadline.async_wait([weak = weak_from_this(), armed = ++generation, action](const error_code& ec) {
            auto self = weak.lock();
            if (ec || !self || armed != self->generation) return;
            self->deadline_passed = true;
            action();
        });
    }
    void disarm() {
        ++generation;
        deadline.cancel();
    }

    HostRouter::Impl& router;
    tcp::socket client;
    tcp::socket backend;
    asio::steady_timer deadline;
    std::uint64_t generation = 0;
    bool deadline_passed = false;
    bool closed = false;
    bool client_done = false;   // the client sent all it will (half-closed)
    bool backend_done = false;  // likewise the backend
};

struct Head {
    enum class Outcome { complete, too_large, cut } outcome = Outcome::cut;
    std::size_t length = 0;
};

// Reads until the blank line that ends the request head; `received` keeps every byte read,
// which may run past the head into the body.
asio::awaitable<Head> read_head(Connection& c, std::string& received) {
    c.arm(kHeadTimeout, [&c] { c.close(); });
    std::array<char, kChunk> chunk;
    for (;;) {
        error_code ec;
        const std::size_t n = co_await c.client.async_read_some(asio::buffer(chunk), redirect_error(use_awaitable, ec));
        if (ec) co_return Head{};
        received.append(chunk.data(), n);
        const std::size_t length = head_length(received);
        if (length > 0 && length <= kMaxHead) {
            c.disarm();
            co_return Head{Head::Outcome::complete, length};
        }
        if (received.size() >= kMaxHead) {
            c.disarm();
            co_return Head{Head::Outcome::too_large, 0};
        }
    }
}

// Answers the client on its own and closes, after reading (and dropping) what it still sends.
asio::awaitable<void> refuse(Connection& c, std::string_view status, const std::string& body) {
    const std::string answer = answer_text(status, body);
    error_code ec;
    co_await asio::async_write(c.client, asio::buffer(answer), redirect_error(use_awaitable, ec));
    if (!ec) {
        c.client.shutdown(tcp::socket::shutdown_send, ec);
        c.arm(kLingerTimeout, [&c] { c.close(); });
        std::array<char, 4096> sink;
        std::size_t dropped = 0;
        while (!ec && dropped < kLingerBytes)
            dropped += co_await c.client.async_read_some(asio::buffer(sink), redirect_error(use_awaitable, ec));
    }
    c.close();
}

// Connects to 127.0.0.1:port; nullopt when connected, else why not.
asio::awaitable<std::optional<std::string>> connect_backend(Connection& c, int port) {
    if (port <= 0 || port > 65535) co_return "port " + std::to_string(port) + " is not a TCP port";
    c.arm(kConnectTimeout, [&c] {
        error_code ignored;
        c.backend.close(ignored);  // the pending connect ends with operation_aborted
    });
    error_code ec;
    const tcp::endpoint to(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port));
    co_await c.backend.async_connect(to, redirect_error(use_awaitable, ec));
    c.disarm();
    const std::string where = "127.0.0.1:" + std::to_string(port);
    if (c.deadline_passed) co_return where + " accepted no connection within 5 s";
    if (ec) co_return where + ": " + ec.message();
    c.backend.set_option(tcp::no_delay(true), ec);
    co_return std::nullopt;
}

// Copies `from` to `to` (after `first`, bytes already read) until `from` ends. An end of stream is
// passed on as a half-close, so the other side may still answer; an error closes both.
asio::awaitable<void> pump(std::shared_ptr<Connection> c, tcp::socket& from, tcp::socket& to, std::string first) {
    error_code ec;
    bool write_failed = false;
    if (!first.empty()) co_await asio::async_write(to, asio::buffer(first), redirect_error(use_awaitable, ec));
    write_failed = bool(ec);
    std::array<char, kChunk> buffer;
    while (!ec) {
        const std::size_t n = co_await from.async_read_some(asio::buffer(buffer), redirect_error(use_awaitable, ec));
        if (ec) break;
        co_await asio::async_write(to, asio::buffer(buffer.data(), n), redirect_error(use_awaitable, ec));
        write_failed = bool(ec);
    }
    if (c->closed) co_return;
    const bool upstream = &from == &c->client;
    if (ec == asio::error::eof && !write_failed) {
        error_code ignored;
        to.shutdown(tcp::socket::shutdown_send, ignored);
        (upstream ? c->client_done : c->backend_done) = true;
        if (c->client_done && c->backend_done) c->close();
        co_return;
    }
    if (upstream == write_failed) ++c->router.backend_errors;  // the backend's side failed
    c->close();
}

void splice(const std::shared_ptr<Connection>& c, std::string already_read) {
    asio::co_spawn(c->router.io, pump(c, c->client, c->backend, std::move(already_read)), asio::detached);
    asio::co_spawn(c->router.io, pump(c, c->backend, c->client, {}), asio::detached);
}

asio::awaitable<void> serve(std::shared_ptr<Connection> c) {
    HostRouter::Impl& router = c->router;
    std::string received;
    const Head head = co_await read_head(*c, received);
    if (head.outcome == Head::Outcome::cut) co_return c->close();
    if (head.outcome == Head::Outcome::too_large) {
        ++router.bad_requests;
        co_return co_await refuse(*c, "431 Request Header Fields Too Large", "The request's head is over 16 KiB.\n");
    }
    const auto host = request_host(std::string_view(received).substr(0, head.length));
    if (!host) {
        ++router.bad_requests;
        co_return co_await refuse(*c, "400 Bad Request", "The request has no Host header: previews are found by it.\n");
    }
    const std::optional<int> port = router.resolve_host(*host);
    if (!port) {
        ++router.not_found;
        co_return co_await refuse(*c, "404 Not Found", router.not_found_text(*host));
    }
    const auto failure = co_await connect_backend(*c, *port);
    if (c->closed) co_return;  // the router shuts down
    if (failure) {
        ++router.backend_errors;
        co_return co_await refuse(*c, "502 Bad Gateway", *host + ": the preview is not answering (" + *failure + ").\n");
    }
    ++router.routed;
    splice(c, std::move(received));
}

asio::awaitable<void> accept_connections(HostRouter::Impl& router) {
    for (;;) {
        error_code ec;
        tcp::socket socket = co_await router.acceptor.async_accept(redirect_error(use_awaitable, ec));
        if (router.closing) co_return;
        if (ec) {
            // Out of descriptors, most likely: wait a little rather than spin.
            ++router.accept_errors;
            router.accept_pause.expires_after(kAcceptRetry);
            co_await router.accept_pause.async_wait(redirect_error(use_awaitable, ec));
            if (router.closing) co_return;
            continue;
        }
        ++router.accepted;
        socket.set_option(tcp::no_delay(true), ec);
        asio::co_spawn(router.io, serve(std::make_shared<Connection>(router, std::move(socket))), asio::detached);
    }
}

std::string address_and_port(const asio::ip::address& address, int port) {
    const std::string text = address.to_string();
    return (address.is_v6() ? "[" + text + "]" : text) + ":" + std::to_string(port);
}

}  // namespace

// Closes everything; each coroutine then ends with operation_aborted and the thread's run() returns.
void HostRouter::Impl::shut_down() {
    closing = true;
    error_code ignored;
    acceptor.close(ignored);
    accept_pause.cancel();
    for (Connection* connection : connections) connection->close();
}

Result<std::unique_ptr<HostRouter>> HostRouter::start(const Options& options, Resolve resolve, NotFound not_found) {
    error_code ec;
    const auto address = asio::ip::make_address(options.address == "localhost" ? "127.0.0.1" : options.address, ec);
    if (ec)
        return make_error(ErrorCode::invalid_value, "previews' router: '" + options.address + "' is not an IP address");
    if (options.port < 0 || options.port > 65535)
        return make_error(ErrorCode::invalid_value,
                          "previews' router: port " + std::to_string(options.port) + " is out of range");
    if (!resolve || !not_found)
        return make_error(ErrorCode::invalid_value, "previews' router: a resolver and a 404 text are required");
    auto impl = std::make_unique<Impl>(std::move(resolve), std::move(not_found));
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
    impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) impl->acceptor.bind(endpoint, ec);
    if (!ec) impl->acceptor.listen(tcp::socket::max_listen_connections, ec);
    if (ec)
        return make_error(ErrorCode::io, "previews' router: cannot listen on " + address_and_port(address, options.port) +
                                             ": " + ec.message());
    const int port = impl->acceptor.local_endpoint(ec).port();
    asio::co_spawn(impl->io, accept_connections(*impl), asio::detached);
    impl->thread = std::thread([raw = impl.get()] { raw->io.run(); });
    return std::unique_ptr<HostRouter>(new HostRouter(std::move(impl), port));
}

HostRouter::HostRouter(std::unique_ptr<Impl> impl, int port) : impl_(std::move(impl)), port_(port) {}

HostRouter::~HostRouter() {
    asio::post(impl_->io, [impl = impl_.get()] { impl->shut_down(); });
    impl_->thread.join();
}

int HostRouter::port() const { return port_; }

HostRouter::Stats HostRouter::stats() const {
    return Stats{impl_->accepted.load(), impl_->routed.load(),         impl_->not_found.load(),
                 impl_->bad_requests.load(), impl_->backend_errors.load(), impl_->accept_errors.load()};
}

std::optional<std::string> request_host(std::string_view head) {
    std::optional<std::string> host;
    std::size_t at = head.find('\n');  // past the request line
    while (at != std::string_view::npos && at + 1 < head.size()) {
        const std::size_t start = at + 1;
        at = head.find('\n', start);
        std::string_view line = head.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start);
        if (line.ends_with('\r')) line.remove_suffix(1);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || lowercase(line.substr(0, colon)) != "host") continue;
        if (host) return std::nullopt;  // two Host headers
        host = without_port(trim(line.substr(colon + 1)));
    }
    if (host && host->empty()) return std::nullopt;
    return host;
}

}  // namespace tandem::detail

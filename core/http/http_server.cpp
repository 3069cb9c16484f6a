// The HTTP API server: listens, accepts, fans runtime events out to the streams (with a
// status document at most every 100 ms after a change), and shuts everything down.
#include "http/server_state.hpp"

#include "http/status_document.hpp"

#include <algorithm>

namespace tandem {

using http::asio::use_awaitable;
using http::tcp;

namespace {

constexpr std::size_t kMaxBackgroundTasks = 64;
constexpr std::chrono::milliseconds kStatusInterval{100};
constexpr std::chrono::milliseconds kAcceptRetry{100};

// A connection over a cap: a short 503 if the socket takes it at once (it never waits), then closed.
void turn_away(HttpApi::State& state, tcp::socket& socket, const std::string& peer, const std::string& why) {
    const std::string body = R"({"error":{"code":"busy","message":"too many connections: )" + why + "\"}}";
    const std::string reply = "HTTP/1.1 503 Service Unavailable\r\nServer: tandem\r\nContent-Type: application/json\r\n"
                              "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(http::asio::buffer(reply), ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    state.metrics.count_request(503);
    state.refused(peer, "503 connection from " + peer + ": " + why);
}

http::asio::awaitable<void> accept_connections(HttpApi::State& state) {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket socket = co_await state.acceptor.async_accept(http::asio::redirect_error(use_awaitable, ec));
        if (state.stopping) co_return;
        if (ec) {
            // Out of descriptors, most likely: wait a little rather than spin.
            http::asio::steady_timer pause(state.io, kAcceptRetry);
            co_await pause.async_wait(http::asio::redirect_error(use_awaitable, ec));
            continue;
        }
        const auto endpoint = socket.remote_endpoint(ec);
        std::string peer = ec ? std::string("unknown") : endpoint.address().to_string();
        if (auto over = state.limits.admit(peer)) {
            turn_away(state, socket, peer, *over);
            continue;
        }
        http::asio::co_spawn(state.io, http::serve_connection(state, std::move(socket), std::move(peer)),
                             http::asio::detached);
    }
}

Result<tcp::endpoint> endpoint_of(const HttpApiOptions& options) {
    boost::system::error_code ec;
    const auto address = http::asio::ip::make_address(options.address, ec);
    if (ec) return make_error(ErrorCode::invalid_value, "HTTP API: '" + options.address + "' is not an IP address");
    if (options.port < 0 || options.port > 65535)
        return make_error(ErrorCode::invalid_value, "HTTP API: port " + std::to_string(options.port) + " is out of range");
    return tcp::endpoint(address, static_cast<unsigned short>(options.port));
}

Status listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint) {
    boost::system::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(tcp::socket::max_listen_connections, ec);
    if (ec)
        return make_error(ErrorCode::io, "HTTP API: cannot listen on " + endpoint.address().to_string() + ":" +
                                             std::to_string(endpoint.port()) + ": " + ec.message());
    return Ok{};
}

}  // namespace

HttpApi::State::State(const HttpApiOptions& opts, ControlHandler& handler, http::AccessControl access)
    : options(opts), engine(handler), tasks(kMaxBackgroundTasks), refusals(opts.on_denied),
      router(
          opts, handler, std::move(access), metrics,
          [this](std::function<void()> task) { return tasks.run(std::move(task)); },
          [this](const std::string& peer, const std::string& what) { refused(peer, what); }),
      limits(opts.max_connections, opts.max_connections_per_peer) {}

void HttpApi::State::refused(const std::string& peer, const std::string& what) {
    if (!refusals.refused(peer, what) || stopping) return;
    refusal_window_.expires_after(http::RefusalTally::kWindow);
    refusal_window_.async_wait([this](boost::system::error_code ec) {
        if (!ec) refusals.close_window();
    });
}

void HttpApi::State::publish(const RuntimeEvent& event) {
    metrics.observe(event);
    const bool log = event.kind == RuntimeEventKind::log;
    {
        std::lock_guard lock(subscribers_mutex_);
        if (!subscribers_.empty()) {
            const std::string text = http::sse_event("runtime", to_json(event));
            for (const auto& subscriber : subscribers_)
                if (!log || subscriber->caller.may("logs")) subscriber->queue->push(text, log);
        }
    }
    if (!log) schedule_status();
}

void HttpApi::State::add_subscriber(const std::shared_ptr<http::EventSubscriber>& subscriber) {
    std::lock_guard lock(subscribers_mutex_);
    subscribers_.push_back(subscriber);
}

void HttpApi::State::remove_subscriber(const std::shared_ptr<http::EventSubscriber>& subscriber) {
    std::lock_guard lock(subscribers_mutex_);
    subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), subscriber), subscribers_.end());
}

int HttpApi::State::add_connection(std::function<void()> close) {
    connections_[next_connection_] = std::move(close);
    return next_connection_++;
}

void HttpApi::State::remove_connection(int id) { connections_.erase(id); }

std::string HttpApi::State::status_event(const http::Caller& caller) {
    return http::sse_event("status", http::status_document(http::engine_status(engine, options.tool), caller));
}

// One status broadcast at a time, at least kStatusInterval after the last one; a change
// while one is being built schedules the next, so the last change is always sent.
void HttpApi::State::schedule_status() {
    if (status_due_.exchange(true)) return;
    http::asio::post(io, [this] {
        if (stopping) return;
        status_timer_.expires_at(std::max(std::chrono::steady_clock::now(), last_status_ + kStatusInterval));
        status_timer_.async_wait([this](boost::system::error_code ec) {
            status_due_ = false;
            if (!ec && !stopping) broadcast_status();
        });
    });
}

void HttpApi::State::broadcast_status() {
    last_status_ = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<http::EventSubscriber>> subscribers;
    {
        std::lock_guard lock(subscribers_mutex_);
        subscribers = subscribers_;
    }
    if (subscribers.empty()) return;
    const http::EngineStatus status = http::engine_status(engine, options.tool);
    std::map<std::pair<std::string, std::string>, std::string> by_caller;  // token, role: the event
    for (const auto& subscriber : subscribers) {
        auto& text = by_caller[{subscriber->caller.token, subscriber->caller.role}];
        if (text.empty()) text = http::sse_event("status", http::status_document(status, subscriber->caller));
        subscriber->queue->set_status(text);
    }
}

void HttpApi::State::shut_down() {
    stopping = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    status_timer_.cancel();
    refusal_window_.cancel();
    for (auto& [id, close] : std::exchange(connections_, {})) close();
    refusals.close_window();  // what it counted, reported before the engine goes
}

Result<std::unique_ptr<HttpApi>> HttpApi::start(const HttpApiOptions& options, ControlHandler& engine) {
    auto access = http::AccessControl::make(options);
    if (!access) return access.error();
    const auto endpoint = endpoint_of(options);
    if (!endpoint) return endpoint.error();
    auto state = std::make_unique<State>(options, engine, std::move(*access));
    if (auto listening = listen(state->acceptor, *endpoint); !listening) return listening.error();
    state->port = state->acceptor.local_endpoint().port();
    http::asio::co_spawn(state->io, accept_connections(*state), http::asio::detached);
    state->thread = std::thread([io = &state->io] { io->run(); });
    return std::unique_ptr<HttpApi>(new HttpApi(std::move(state)));
}

HttpApi::HttpApi(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpApi::~HttpApi() {
    http::asio::post(state_->io, [state = state_.get()] { state->shut_down(); });
    state_->thread.join();
}

int HttpApi::port() const { return state_->port; }

void HttpApi::publish(const RuntimeEvent& event) { state_->publish(event); }

namespace http {

Deadline::Deadline(const Socket& socket, std::chrono::steady_clock::duration timeout)
    : timer_(socket->get_executor(), timeout) {
    timer_.async_wait([weak = std::weak_ptr<tcp::socket>(socket)](boost::system::error_code ec) {
        if (ec) return;
        if (auto open = weak.lock()) {
            boost::system::error_code ignored;
            open->close(ignored);
        }
    });
}

Deadline::~Deadline() { timer_.cancel(); }

}  // namespace http

}  // namespace tandem

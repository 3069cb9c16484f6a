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
        http::asio::co_spawn(state.io, http::serve_connection(state, std::move(socket)), http::asio::detached);
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
    : options(opts), engine(handler), tasks(kMaxBackgroundTasks),
      router(opts, handler, std::move(access), metrics, [this](std::function<void()> task) {
          return tasks.run(std::move(task));
      }) {}

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
    for (auto& [id, close] : std::exchange(connections_, {})) close();
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

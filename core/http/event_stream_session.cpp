// A text/event-stream connection: the engine's events (/api/v1/events) or a service's log
// lines (/api/v1/services/NAME/logs?follow=1). The engine's threads fill the stream's bounded
// queue and wake it; this side writes what is waiting, a keep-alive comment when nothing
// comes, and notices the client leaving by reading from it.
#include "http/server_state.hpp"

namespace tandem::http {

using asio::redirect_error;
using asio::use_awaitable;
using error_code = boost::system::error_code;

namespace {

constexpr std::size_t kMaxQueuedEvents = 5000;
constexpr std::chrono::seconds kKeepAlive{15};
constexpr std::string_view kHeader =
    "HTTP/1.1 200 OK\r\nServer: tandem\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
    "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n";

// What the writer and the hang-up watcher share.
struct StreamConnection {
    explicit StreamConnection(Socket s) : socket(std::move(s)), wake(socket->get_executor()) {}
    Socket socket;
    asio::steady_timer wake;  // cancelled: something to write, or the client left
    bool client_gone = false;
};

// The queue's wake-up, from any thread: cancels the writer's wait on the server's thread.
std::function<void()> waker(asio::io_context& io, const std::shared_ptr<StreamConnection>& connection) {
    return [&io, weak = std::weak_ptr<StreamConnection>(connection)] {
        asio::post(io, [weak] {
            if (auto c = weak.lock()) c->wake.cancel();
        });
    };
}

// A client of a stream sends nothing more: a read that ends means it left (or the socket closed).
asio::awaitable<void> watch_hangup(std::shared_ptr<StreamConnection> connection) {
    char buffer[512];
    error_code ec;
    while (!ec) co_await connection->socket->async_read_some(asio::buffer(buffer), redirect_error(use_awaitable, ec));
    connection->client_gone = true;
    connection->wake.cancel();
}

asio::awaitable<bool> write_text(StreamConnection& connection, std::string text) {
    Deadline deadline(connection.socket, kWriteTimeout);
    error_code ec;
    co_await asio::async_write(*connection.socket, asio::buffer(text), redirect_error(use_awaitable, ec));
    co_return !ec;
}

// Writes what the queue holds as it comes, until the client, the connection or the server ends.
asio::awaitable<void> pump(HttpApi::State& state, std::shared_ptr<StreamConnection> connection, StreamQueue& queue) {
    asio::co_spawn(state.io, watch_hangup(connection), asio::detached);
    while (!connection->client_gone && !state.stopping) {
        // Taken before waiting, so a wake-up that came while writing is never missed.
        std::string text = queue.take();
        if (!text.empty()) {
            if (!co_await write_text(*connection, std::move(text))) break;
            continue;
        }
        connection->wake.expires_after(kKeepAlive);
        error_code ec;
        co_await connection->wake.async_wait(redirect_error(use_awaitable, ec));
        if (!ec && !co_await write_text(*connection, ": keep-alive\n\n")) break;
    }
    error_code ignored;
    connection->socket->close(ignored);  // ends the watcher
}

asio::awaitable<void> serve_events(HttpApi::State& state, std::shared_ptr<StreamConnection> connection,
                                   const Caller& caller) {
    auto subscriber = std::make_shared<EventSubscriber>(
        EventSubscriber{std::make_shared<StreamQueue>(kMaxQueuedEvents, waker(state.io, connection)), caller});
    state.add_subscriber(subscriber);
    subscriber->queue->set_status(state.status_event(caller));
    if (co_await write_text(*connection, std::string(kHeader))) co_await pump(state, connection, *subscriber->queue);
    state.remove_subscriber(subscriber);
}

// Stops following when the stream ends, however it ends.
struct Following {
    ControlHandler& engine;
    int id;
    ~Following() { engine.unfollow(id); }
};

asio::awaitable<void> serve_logs(HttpApi::State& state, std::shared_ptr<StreamConnection> connection,
                                 const StreamOrder& order) {
    auto queue = std::make_shared<StreamQueue>(kMaxQueuedEvents, waker(state.io, connection));
    // Following starts before the tail is read, so no line falls between the two (one may show twice).
    const Following following{state.engine, state.engine.follow_logs(order.service, [queue](const std::string& line) {
                                  queue->push(log_event(line), true);
                              })};
    std::string text(kHeader);
    for (const auto& line : state.engine.logs(order.service, order.tail)) text += log_event(line);
    if (co_await write_text(*connection, std::move(text))) co_await pump(state, connection, *queue);
}

}  // namespace

asio::awaitable<void> serve_stream(HttpApi::State& state, Socket socket, StreamOrder order) {
    auto connection = std::make_shared<StreamConnection>(std::move(socket));
    if (order.kind == StreamOrder::Kind::events) co_await serve_events(state, connection, order.caller);
    else co_await serve_logs(state, connection, order);
}

}  // namespace tandem::http

// The HTTP API server's state, shared by its three parts: the server (http_server.cpp: start,
// accept, publish, shutdown), a connection's requests (http_session.cpp, Beast) and its
// event streams (event_stream_session.cpp). Private: Asio stays out of the public header.
#pragma once

#include "support/asio.hpp"

#include "http/access.hpp"
#include "http/api_router.hpp"
#include "http/background_tasks.hpp"
#include "http/connection_limits.hpp"
#include "http/event_stream.hpp"
#include "http/metrics.hpp"
#include "http/refusal_tally.hpp"

#include <tandem/http_api.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tandem::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Socket = std::shared_ptr<tcp::socket>;

inline constexpr std::chrono::seconds kWriteTimeout{30};  // a client that takes no bytes for this long is closed

// An events stream's subscription: what it is sent and who reads it.
struct EventSubscriber {
    std::shared_ptr<StreamQueue> queue;
    Caller caller;
};

// Closes a socket unless destroyed first: the timeout of one read or write.
class Deadline {
public:
    Deadline(const Socket& socket, std::chrono::steady_clock::duration timeout);
    ~Deadline();
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

private:
    asio::steady_timer timer_;
};

}  // namespace tandem::http

namespace tandem {

struct HttpApi::State {
    State(const HttpApiOptions& options, ControlHandler& engine, http::AccessControl access);

    // Any thread.
    void publish(const RuntimeEvent& event);
    void add_subscriber(const std::shared_ptr<http::EventSubscriber>& subscriber);
    void remove_subscriber(const std::shared_ptr<http::EventSubscriber>& subscriber);

    // The server's thread only.
    int add_connection(std::function<void()> close);  // `close` is called at shutdown
    void remove_connection(int id);
    std::string status_event(const http::Caller& caller);  // an `event: status` for a new stream
    void refused(const std::string& peer, const std::string& what);  // to the tally, a window opened if none is
    void shut_down();

    HttpApiOptions options;
    ControlHandler& engine;
    http::Metrics metrics;
    http::asio::io_context io;
    http::tcp::acceptor acceptor{io};
    http::BackgroundTasks tasks;  // destroyed before io: its tasks post there
    http::RefusalTally refusals;
    http::ApiRouter router;
    http::ConnectionLimits limits;  // server thread only
    int port = 0;           // the bound port
    bool stopping = false;  // server thread only
    std::thread thread;

private:
    void schedule_status();
    void broadcast_status();

    std::map<int, std::function<void()>> connections_;  // server thread only
    int next_connection_ = 1;
    http::asio::steady_timer status_timer_{io};
    http::asio::steady_timer refusal_window_{io};
    std::chrono::steady_clock::time_point last_status_;
    std::atomic<bool> status_due_{false};
    std::mutex subscribers_mutex_;
    std::vector<std::shared_ptr<http::EventSubscriber>> subscribers_;
};

}  // namespace tandem

namespace tandem::http {

// A connection's requests, one after the other (keep-alive), until it closes or the server
// stops; `peer` is its address, admitted by state.limits (released here).
asio::awaitable<void> serve_connection(HttpApi::State& state, tcp::socket socket, std::string peer);
// A text/event-stream on `socket` (its header included), until the client or the server goes.
asio::awaitable<void> serve_stream(HttpApi::State& state, Socket socket, StreamOrder order);

}  // namespace tandem::http

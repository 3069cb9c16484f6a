// The proxy's insides, shared by tcp_proxy.cpp only: a backend as the proxy tracks it, the
// proxy's state, and one client connection splicing bytes to a backend (parking while none
// exists, and telling a drain whether it is between requests).
#pragma once

#include "runtime/process/tcp_proxy.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <unordered_set>
#include <utility>
#include <vector>

namespace tandem::process {

using asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t kBufferBytes = 16 * 1024;
// While a backend drains: a connection whose last bytes went to the client and that has been
// quiet this long is between requests (an idle keep-alive), and is wound down rather than waited for.
constexpr auto kIdleQuiet = std::chrono::milliseconds(50);
constexpr auto kDrainCheck = std::chrono::milliseconds(20);

class ProxyConnection;

struct ProxyBackend {
    int id = 0;
    asio::ip::address address = asio::ip::address_v4::loopback();
    int port = 0;
    bool draining = false;
    std::size_t open = 0;  // connections assigned to it (connecting or splicing)
    std::shared_ptr<asio::steady_timer> drain_timer;
    std::function<void()> on_drained;
};

struct TcpProxy::State : std::enable_shared_from_this<TcpProxy::State> {
    State(asio::io_context& context, const Options& opts) : io(context), options(opts), acceptor(context) {}

    asio::io_context& io;
    Options options;
    tcp::acceptor acceptor;
    bool closed = false;
    std::vector<ProxyBackend> backends;  // in the order they were added: the round robin's ring
    std::size_t next_backend = 0;
    std::deque<std::weak_ptr<ProxyConnection>> parked;  // waiting for a backend to be added
    std::unordered_set<ProxyConnection*> connections;   // every live connection, to close them all
    ProxyStats stats;

    ProxyBackend* find(int id) {
        for (auto& backend : backends)
            if (backend.id == id) return &backend;
        return nullptr;
    }
    // The next routable backend in round-robin order that `tried` does not hold.
    ProxyBackend* pick(const std::vector<int>& tried);
    void accept_next();
    void connection_left_backend(int backend_id);
    void close_idle(int backend_id);
    void check_drain(int backend_id);
    void finish_drain(int backend_id);
    void shut_down();
};


// One client connection and, once connected, its backend: two independent one-way pumps.
class ProxyConnection : public std::enable_shared_from_this<ProxyConnection> {
public:
    ProxyConnection(std::shared_ptr<TcpProxy::State> state, tcp::socket client)
        : state_(std::move(state)), client_(std::move(client)), backend_(state_->io), timer_(state_->io) {
        state_->connections.insert(this);
    }
    ~ProxyConnection() { state_->connections.erase(this); }

    int backend_id() const { return backend_id_; }
    bool parked() const { return phase_ == Phase::parked; }

    void start() {
        error_code ignored;
        client_.set_option(tcp::no_delay(true), ignored);
        connect_next();
    }

    // A backend exists now (or the proxy retries): leave the parking lot.
    void unpark() {
        if (phase_ == Phase::parked) connect_next();
    }

    // Closes both sockets now; every pending operation ends with operation_aborted.
    void close() {
        if (phase_ == Phase::closed) return;
        phase_ = Phase::closed;
        ++timer_generation_;
        timer_.cancel();
        error_code ignored;
        client_.close(ignored);
        backend_.close(ignored);
        --state_->stats.active;
        leave_backend();
    }

    // The backend was forgotten while this connection used it: no count to give back.
    void forget_backend() { backend_id_ = -1; }

    // Between requests, it seems: it carried a request, its last bytes went to the client, and
    // nothing moved for `quiet`. A connection that has not asked anything yet is not idle: its
    // client opened it to send a request (the bytes may be on their way, late on a loaded
    // machine). Only "seems": a reply may still be coming (a server that sends its headers, then
    // its body a while later), so a draining connection is wound down, never cut (wind_down).
    bool idle(std::chrono::steady_clock::duration quiet) const {
        return phase_ == Phase::splicing && asked_ && !awaiting_reply_ && !wound_down_ &&
               std::chrono::steady_clock::now() - last_activity_ >= quiet;
    }

    // Ends a connection that seems idle as a client would: no more requests (a half-close
    // towards the backend). A server between requests closes it at once; one still sending a
    // reply finishes it first, the proxy passes it on and then the close.
    void wind_down() {
        if (phase_ != Phase::splicing || wound_down_) return;
        wound_down_ = true;
        error_code ignored;
        backend_.shutdown(tcp::socket::shutdown_send, ignored);
    }

private:
    enum class Phase { parked, connecting, splicing, closed };

    struct Pump {
        std::array<char, kBufferBytes> buffer;
        bool done = false;
    };

    void connect_next() {
        ProxyBackend* backend = state_->pick(tried_);
        if (!backend) {
            if (tried_.empty()) return park();
            ++state_->stats.unserved;  // every backend failed: give up
            return close();
        }
        phase_ = Phase::connecting;
        backend_id_ = backend->id;
        ++backend->open;
        tried_.push_back(backend->id);
        error_code ignored;
        backend_.close(ignored);
        arm_timer(state_->options.connect_timeout, [this] {
            error_code unused;
            backend_.close(unused);  // the pending connect ends with operation_aborted
        });
        tcp::endpoint to(backend->address, static_cast<unsigned short>(backend->port));
        backend_.async_connect(to, [self = shared_from_this()](const error_code& ec) { self->connected(ec); });
    }

    void park() {
        phase_ = Phase::parked;
        auto& parked = state_->parked;
        if (parked.size() >= 64)  // forget the ones that timed out meanwhile
            parked.erase(std::remove_if(parked.begin(), parked.end(), [](auto& w) { return w.expired(); }),
                         parked.end());
        parked.push_back(weak_from_this());
        arm_timer(state_->options.backend_wait, [this] {
            ++state_->stats.timed_out;
            ++state_->stats.unserved;
            close();
        });
    }

    template <class OnExpiry>
    void arm_timer(Duration after, OnExpiry on_expiry) {
        std::uint64_t generation = ++timer_generation_;
        timer_.expires_after(after);
        timer_.async_wait([self = shared_from_this(), generation, on_expiry](const error_code& ec) {
            if (ec || generation != self->timer_generation_ || self->phase_ == Phase::closed) return;
            on_expiry();
        });
    }

    void connected(const error_code& ec) {
        if (phase_ != Phase::connecting) return;
        ++timer_generation_;
        timer_.cancel();
        if (ec) {
            ++state_->stats.backend_errors;
            leave_backend();
            return connect_next();
        }
        error_code ignored;
        backend_.set_option(tcp::no_delay(true), ignored);
        phase_ = Phase::splicing;
        ++state_->stats.forwarded;
        read(client_, backend_, upstream_);
        read(backend_, client_, downstream_);
    }

    void read(tcp::socket& from, tcp::socket& to, Pump& pump) {
        from.async_read_some(asio::buffer(pump.buffer),
                             [self = shared_from_this(), &from, &to, &pump](const error_code& ec, std::size_t n) {
                                 self->on_read(from, to, pump, ec, n);
                             });
    }

    void on_read(tcp::socket& from, tcp::socket& to, Pump& pump, const error_code& ec, std::size_t n) {
        if (phase_ != Phase::splicing) return;
        if (ec == asio::error::eof) {
            // Half-close: the other side learns there is no more, and may still answer.
            pump.done = true;
            error_code ignored;
            to.shutdown(tcp::socket::shutdown_send, ignored);
            if (upstream_.done && downstream_.done) return close();
            // The backend said all it will: it needs the connection no more (a drain of it may
            // end), while the client may still be reading what was passed on.
            if (&from == &backend_) leave_backend();
            return;
        }
        if (ec) return fail(&from == &backend_);
        awaiting_reply_ = &to == &backend_;  // bytes to the backend ask; bytes to the client answer
        asked_ = asked_ || awaiting_reply_;
        last_activity_ = std::chrono::steady_clock::now();
        asio::async_write(to, asio::buffer(pump.buffer.data(), n),
                          [self = shared_from_this(), &from, &to, &pump](const error_code& wec, std::size_t) {
                              if (self->phase_ != Phase::splicing) return;
                              if (wec) return self->fail(&to == &self->backend_);
                              self->read(from, to, pump);
                          });
    }

    void fail(bool backend_side) {
        if (backend_side) ++state_->stats.backend_errors;
        close();
    }

    void leave_backend() {
        int id = std::exchange(backend_id_, -1);
        if (id >= 0) state_->connection_left_backend(id);
    }

    std::shared_ptr<TcpProxy::State> state_;
    tcp::socket client_;
    tcp::socket backend_;
    asio::steady_timer timer_;
    std::uint64_t timer_generation_ = 0;
    Phase phase_ = Phase::connecting;
    int backend_id_ = -1;
    std::vector<int> tried_;
    Pump upstream_;    // client to backend
    Pump downstream_;  // backend to client
    bool awaiting_reply_ = false;
    bool asked_ = false;  // the client has sent bytes on it
    bool wound_down_ = false;  // wind_down(): the backend was told no more requests come
    std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
};

}  // namespace tandem::process

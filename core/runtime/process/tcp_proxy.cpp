// The engine's TCP proxy: accepts on the public port, parks clients while no backend exists,
// connects them round robin to a backend and splices bytes both ways until both sides are done.
#include "runtime/process/tcp_proxy.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <deque>
#include <unordered_set>
#include <utility>
#include <vector>

namespace tandem::process {

using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t kBufferBytes = 16 * 1024;
// While a backend drains: a connection whose last bytes went to the client and that has been
// quiet this long is between requests (an idle keep-alive), and is closed rather than waited for.
constexpr auto kIdleQuiet = std::chrono::milliseconds(50);
constexpr auto kDrainCheck = std::chrono::milliseconds(20);

class Connection;

struct Backend {
    int id = 0;
    int port = 0;
    bool draining = false;
    std::size_t open = 0;  // connections assigned to it (connecting or splicing)
    std::shared_ptr<asio::steady_timer> drain_timer;
    std::function<void()> on_drained;
};

}  // namespace

struct TcpProxy::State : std::enable_shared_from_this<TcpProxy::State> {
    State(asio::io_context& context, const Options& opts) : io(context), options(opts), acceptor(context) {}

    asio::io_context& io;
    Options options;
    tcp::acceptor acceptor;
    bool closed = false;
    std::vector<Backend> backends;  // in the order they were added: the round robin's ring
    std::size_t next_backend = 0;
    std::deque<std::weak_ptr<Connection>> parked;  // waiting for a backend to be added
    std::unordered_set<Connection*> connections;   // every live connection, to close them all
    ProxyStats stats;

    Backend* find(int id) {
        for (auto& backend : backends)
            if (backend.id == id) return &backend;
        return nullptr;
    }
    // The next routable backend in round-robin order that `tried` does not hold.
    Backend* pick(const std::vector<int>& tried);
    void accept_next();
    void connection_left_backend(int backend_id);
    void close_idle(int backend_id);
    void check_drain(int backend_id);
    void finish_drain(int backend_id);
    void shut_down();
};

namespace {

// One client connection and, once connected, its backend: two independent one-way pumps.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(std::shared_ptr<TcpProxy::State> state, tcp::socket client)
        : state_(std::move(state)), client_(std::move(client)), backend_(state_->io), timer_(state_->io) {
        state_->connections.insert(this);
    }
    ~Connection() { state_->connections.erase(this); }

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

    // Between requests: its last bytes went to the client, and nothing moved for `quiet`.
    bool idle(std::chrono::steady_clock::duration quiet) const {
        return phase_ == Phase::splicing && !awaiting_reply_ &&
               std::chrono::steady_clock::now() - last_activity_ >= quiet;
    }

private:
    enum class Phase { parked, connecting, splicing, closed };

    struct Pump {
        std::array<char, kBufferBytes> buffer;
        bool done = false;
    };

    void connect_next() {
        Backend* backend = state_->pick(tried_);
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
        tcp::endpoint to(asio::ip::address_v4::loopback(), static_cast<unsigned short>(backend->port));
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
            if (upstream_.done && downstream_.done) close();
            return;
        }
        if (ec) return fail(&from == &backend_);
        awaiting_reply_ = &to == &backend_;  // bytes to the backend ask; bytes to the client answer
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
    std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
};

}  // namespace

Backend* TcpProxy::State::pick(const std::vector<int>& tried) {
    for (std::size_t step = 0; step < backends.size(); ++step) {
        Backend& candidate = backends[(next_backend + step) % backends.size()];
        if (candidate.draining || std::find(tried.begin(), tried.end(), candidate.id) != tried.end()) continue;
        next_backend = (next_backend + step + 1) % backends.size();
        return &candidate;
    }
    return nullptr;
}

void TcpProxy::State::accept_next() {
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket client) {
        if (self->closed) return;
        if (ec) {
            // Out of descriptors or similar: try again shortly instead of spinning.
            auto pause = std::make_shared<asio::steady_timer>(self->io, std::chrono::milliseconds(20));
            pause->async_wait([self, pause](const error_code&) {
                if (!self->closed) self->accept_next();
            });
            return;
        }
        ++self->stats.accepted;
        ++self->stats.active;
        std::make_shared<Connection>(self, std::move(client))->start();
        self->accept_next();
    });
}

void TcpProxy::State::connection_left_backend(int backend_id) {
    Backend* backend = find(backend_id);
    if (!backend) return;
    --backend->open;
    if (backend->draining && backend->open == 0) finish_drain(backend_id);
}

// Idle keep-alive connections of a draining backend are closed; those in the middle of a request
// finish first (up to the drain timeout).
void TcpProxy::State::close_idle(int backend_id) {
    std::vector<Connection*> idle;
    for (Connection* connection : connections)
        if (connection->backend_id() == backend_id && connection->idle(kIdleQuiet)) idle.push_back(connection);
    for (Connection* connection : idle) connection->close();  // leaves the backend: may finish the drain
}

void TcpProxy::State::check_drain(int backend_id) {
    Backend* backend = find(backend_id);
    if (!backend || !backend->draining) return;
    close_idle(backend_id);
    if (!find(backend_id)) return;  // the last one closed finished the drain
    auto timer = std::make_shared<asio::steady_timer>(io, kDrainCheck);
    timer->async_wait([weak = weak_from_this(), backend_id, timer](const error_code& ec) {
        auto state = weak.lock();
        if (ec || !state || state->closed) return;
        state->check_drain(backend_id);
    });
}

// Forgets a draining backend: closes what is still open to it, then reports (on the loop).
void TcpProxy::State::finish_drain(int backend_id) {
    auto it = std::find_if(backends.begin(), backends.end(), [&](const Backend& b) { return b.id == backend_id; });
    if (it == backends.end()) return;
    Backend gone = std::move(*it);
    std::size_t index = static_cast<std::size_t>(it - backends.begin());
    backends.erase(it);
    if (index < next_backend) --next_backend;
    if (next_backend >= backends.size()) next_backend = 0;
    if (gone.drain_timer) gone.drain_timer->cancel();

    std::vector<Connection*> stragglers;
    for (Connection* connection : connections)
        if (connection->backend_id() == backend_id) stragglers.push_back(connection);
    for (Connection* connection : stragglers) {
        connection->forget_backend();
        connection->close();
    }
    if (gone.on_drained) {
        asio::post(io, [weak = weak_from_this(), on_drained = std::move(gone.on_drained)] {
            auto self = weak.lock();
            if (self && !self->closed) on_drained();
        });
    }
}

void TcpProxy::State::shut_down() {
    closed = true;
    error_code ignored;
    acceptor.close(ignored);
    for (auto& backend : backends)
        if (backend.drain_timer) backend.drain_timer->cancel();
    backends.clear();
    std::vector<std::shared_ptr<Connection>> open;
    for (Connection* connection : connections) open.push_back(connection->shared_from_this());
    for (auto& connection : open) {
        connection->forget_backend();
        connection->close();
    }
    parked.clear();
}

Result<std::unique_ptr<TcpProxy>> TcpProxy::listen(asio::io_context& io, const Options& options) {
    error_code ec;
    auto address = asio::ip::make_address(options.host == "localhost" ? "127.0.0.1" : options.host, ec);
    if (ec) return make_error(ErrorCode::invalid_value, "proxy: '" + options.host + "' is not an IP address");
    auto state = std::make_shared<State>(io, options);
    tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
    auto where = [&] { return options.host + ":" + std::to_string(options.port); };
    if (state->acceptor.open(endpoint.protocol(), ec); ec)
        return make_error(ErrorCode::io, "proxy: cannot open a socket for " + where() + ": " + ec.message());
    state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (state->acceptor.bind(endpoint, ec); ec) {
        if (ec == asio::error::address_in_use)
            return make_error(ErrorCode::io, "port " + std::to_string(options.port) + " is already in use (" +
                                                 where() + ")");
        return make_error(ErrorCode::io, "proxy: cannot bind " + where() + ": " + ec.message());
    }
    if (state->acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
        return make_error(ErrorCode::io, "proxy: cannot listen on " + where() + ": " + ec.message());
    state->accept_next();
    return std::make_unique<TcpProxy>(std::move(state));
}

TcpProxy::TcpProxy(std::shared_ptr<State> state) : state_(std::move(state)) {}

TcpProxy::~TcpProxy() { state_->shut_down(); }

int TcpProxy::port() const {
    error_code ec;
    auto endpoint = state_->acceptor.local_endpoint(ec);
    return ec ? 0 : endpoint.port();
}

void TcpProxy::add_backend(int id, int port) {
    if (Backend* existing = state_->find(id)) {
        existing->port = port;
    } else {
        Backend backend;
        backend.id = id;
        backend.port = port;
        state_->backends.push_back(std::move(backend));
    }
    // Hand every parked connection a chance; each takes the next backend in turn.
    auto parked = std::exchange(state_->parked, {});
    for (auto& weak : parked)
        if (auto connection = weak.lock()) connection->unpark();
}

void TcpProxy::drain_backend(int id, Duration timeout, std::function<void()> on_drained) {
    Backend* backend = state_->find(id);
    if (!backend) {
        if (on_drained) asio::post(state_->io, std::move(on_drained));
        return;
    }
    if (backend->draining && backend->on_drained && on_drained) {
        // Drained twice: both callers hear about it.
        on_drained = [first = std::move(backend->on_drained), second = std::move(on_drained)] {
            first();
            second();
        };
    }
    backend->draining = true;
    backend->on_drained = std::move(on_drained);
    if (backend->drain_timer) backend->drain_timer->cancel();
    if (backend->open == 0) return state_->finish_drain(id);
    if (timeout.count() == 0) return state_->finish_drain(id);
    backend->drain_timer = std::make_shared<asio::steady_timer>(state_->io, timeout);
    backend->drain_timer->async_wait([weak = state_->weak_from_this(), id](const error_code& ec) {
        auto state = weak.lock();
        if (ec || !state || state->closed) return;
        state->finish_drain(id);
    });
    state_->check_drain(id);
}

std::size_t TcpProxy::backend_count() const {
    std::size_t routable = 0;
    for (const auto& backend : state_->backends)
        if (!backend.draining) ++routable;
    return routable;
}

std::size_t TcpProxy::open_connections(int backend_id) const {
    const Backend* backend = state_->find(backend_id);
    return backend ? backend->open : 0;
}

ProxyStats TcpProxy::stats() const { return state_->stats; }

std::uint64_t TcpProxy::unserved_connections() const { return state_->stats.unserved; }

}  // namespace tandem::process

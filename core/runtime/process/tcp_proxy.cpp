// The engine's TCP proxy: accepts on the public port, parks clients while no backend exists,
// connects them round robin to a backend and splices bytes both ways until both sides are done.
#include "runtime/process/tcp_proxy.hpp"

#include "runtime/process/proxy_connection.hpp"

namespace tandem::process {

ProxyBackend* TcpProxy::State::pick(const std::vector<int>& tried) {
    for (std::size_t step = 0; step < backends.size(); ++step) {
        ProxyBackend& candidate = backends[(next_backend + step) % backends.size()];
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
        std::make_shared<ProxyConnection>(self, std::move(client))->start();
        self->accept_next();
    });
}

void TcpProxy::State::connection_left_backend(int backend_id) {
    ProxyBackend* backend = find(backend_id);
    if (!backend) return;
    --backend->open;
    if (backend->draining && backend->open == 0) finish_drain(backend_id);
}

// Idle keep-alive connections of a draining backend are wound down (the backend closes them once
// its reply, if one is still coming, is out); those in the middle of a request finish first (up to
// the drain timeout).
void TcpProxy::State::close_idle(int backend_id) {
    for (ProxyConnection* connection : connections)
        if (connection->backend_id() == backend_id && connection->idle(kIdleQuiet)) connection->wind_down();
}

void TcpProxy::State::check_drain(int backend_id) {
    ProxyBackend* backend = find(backend_id);
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
    auto it = std::find_if(backends.begin(), backends.end(), [&](const ProxyBackend& b) { return b.id == backend_id; });
    if (it == backends.end()) return;
    ProxyBackend gone = std::move(*it);
    std::size_t index = static_cast<std::size_t>(it - backends.begin());
    backends.erase(it);
    if (index < next_backend) --next_backend;
    if (next_backend >= backends.size()) next_backend = 0;
    if (gone.drain_timer) gone.drain_timer->cancel();

    std::vector<ProxyConnection*> stragglers;
    for (ProxyConnection* connection : connections)
        if (connection->backend_id() == backend_id) stragglers.push_back(connection);
    for (ProxyConnection* connection : stragglers) {
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
    std::vector<std::shared_ptr<ProxyConnection>> open;
    for (ProxyConnection* connection : connections) open.push_back(connection->shared_from_this());
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

void TcpProxy::add_backend(int id, int port) { add_backend(id, asio::ip::address_v4::loopback(), port); }

Status TcpProxy::add_backend(int id, const std::string& host, int port) {
    error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) return make_error(ErrorCode::invalid_value, "proxy: '" + host + "' is not an IP address");
    add_backend(id, address, port);
    return Ok{};
}

void TcpProxy::add_backend(int id, const asio::ip::address& address, int port) {
    if (ProxyBackend* existing = state_->find(id)) {
        existing->address = address;
        existing->port = port;
    } else {
        ProxyBackend backend;
        backend.id = id;
        backend.address = address;
        backend.port = port;
        state_->backends.push_back(std::move(backend));
    }
    // Hand every parked connection a chance; each takes the next backend in turn.
    auto parked = std::exchange(state_->parked, {});
    for (auto& weak : parked)
        if (auto connection = weak.lock()) connection->unpark();
}

void TcpProxy::drain_backend(int id, Duration timeout, std::function<void()> on_drained) {
    ProxyBackend* backend = state_->find(id);
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
    const ProxyBackend* backend = state_->find(backend_id);
    return backend ? backend->open : 0;
}

ProxyStats TcpProxy::stats() const { return state_->stats; }

std::uint64_t TcpProxy::unserved_connections() const { return state_->stats.unserved; }

}  // namespace tandem::process

// The engine's TCP proxy for one service port: it listens on the public port for as long as the
// service exists and forwards each connection to a current backend (a replica's private port),
// round robin. Backends come and go without the listening socket ever closing; while there is
// none, new connections wait (up to a limit) instead of being refused.
#pragma once

#include "support/asio.hpp"

#include <tandem/error.hpp>
#include <tandem/spec.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace tandem::process {

struct ProxyStats {
    std::uint64_t accepted = 0;         // client connections accepted
    std::uint64_t forwarded = 0;        // connected to a backend
    std::uint64_t backend_errors = 0;   // a backend refused or failed mid-stream
    std::uint64_t timed_out = 0;        // waited for a backend longer than the limit and closed
    std::uint64_t unserved = 0;         // closed without reaching any backend: every one failed, or timed out
    std::uint64_t active = 0;           // open right now
};

class TcpProxy {
public:
    struct Options {
        std::string host = "127.0.0.1";
        int port = 0;                     // 0: any free port (tests)
        Duration backend_wait{10000};     // how long a connection waits for a backend
        Duration connect_timeout{2000};   // connecting to a backend
    };

    static Result<std::unique_ptr<TcpProxy>> listen(asio::io_context& io, const Options& options);
    ~TcpProxy();  // closes the listener and every connection

    int port() const;  // the bound port

    // New connections may go to this backend (id chosen by the caller, unique per proxy): a port
    // of 127.0.0.1, or of another address (a cluster node's); the address must be an IP address.
    void add_backend(int id, int port);
    Status add_backend(int id, const std::string& host, int port);
    // No new connections go to it; idle keep-alive ones (last bytes to the client, quiet 50 ms)
    // are closed, those in the middle of a request carry on. `on_drained` runs (on the loop) when
    // its last connection closes or after `timeout`, whichever is first; then the remaining
    // connections to it are closed.
    void drain_backend(int id, Duration timeout, std::function<void()> on_drained);
    std::size_t backend_count() const;  // backends new connections may go to (not draining)
    std::size_t open_connections(int backend_id) const;
    ProxyStats stats() const;
    // Client connections the proxy could not hand to any backend (stats().unserved): each
    // backend it tried failed, or none came within backend_wait. Connections the proxy closes
    // as it shuts down do not count.
    std::uint64_t unserved_connections() const;

    struct State;
    explicit TcpProxy(std::shared_ptr<State> state);

private:
    void add_backend(int id, const asio::ip::address& address, int port);
    std::shared_ptr<State> state_;
};

}  // namespace tandem::process

// One port for every preview: each HTTP connection goes to the backend its Host header names
// ("feature-x.localhost:8080" -> preview feature-x's main service; "api.feature-x.localhost"
// -> its api service), chosen by the resolver; an unknown host gets a 404 page listing what is there.
//
// The router reads a connection's first request head only, then splices bytes both ways, so a
// whole connection stays on its first request's backend: keep-alive connections carry requests
// for one host (what browsers do, since a connection is per origin), and WebSocket or other
// upgrades need nothing special. Asio stays in host_router.cpp (pimpl).
#pragma once

#include <tandem/error.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::detail {

class HostRouter {
public:
    // host: the Host header's name, lowercased, without ":port". Returns the 127.0.0.1 port to
    // forward to, or nullopt. Runs on the router's thread (as does NotFound): it must be quick and
    // must not wait for the thread that destroys the router.
    using Resolve = std::function<std::optional<int>(const std::string& host)>;
    // The text (plain text, UTF-8) of the 404 answer for a host no preview has, given that host.
    using NotFound = std::function<std::string(const std::string& host)>;
    struct Options {
        std::string address = "127.0.0.1";
        int port = 0;  // 0: any free port
    };

    // Listens on options.address:port and serves on a thread of its own until destroyed.
    static Result<std::unique_ptr<HostRouter>> start(const Options& options, Resolve resolve, NotFound not_found);
    ~HostRouter();  // closes the listener and every connection, joins its thread
    HostRouter(const HostRouter&) = delete;
    HostRouter& operator=(const HostRouter&) = delete;

    int port() const;  // the bound port

    struct Stats {
        std::uint64_t accepted = 0;        // client connections accepted
        std::uint64_t routed = 0;          // connected to the backend their host resolved to
        std::uint64_t not_found = 0;       // answered 404: no preview has the host
        std::uint64_t bad_requests = 0;    // answered 400 (no Host) or 431 (head over 16 KiB)
        std::uint64_t backend_errors = 0;  // answered 502 (backend not answering) or cut mid-stream by it
        std::uint64_t accept_errors = 0;   // accepting a connection failed (out of descriptors, ...)
    };
    Stats stats() const;

    struct Impl;

private:
    HostRouter(std::unique_ptr<Impl> impl, int port);
    std::unique_ptr<Impl> impl_;
    int port_ = 0;
};

// The host a request head names: its Host header's value with blanks trimmed, ":port" stripped
// and lowercased ("[::1]:80" -> "[::1]"); nullopt when it has no Host header, an empty one or two
// (a request that names two hosts is refused rather than guessed at).
std::optional<std::string> request_host(std::string_view head);

}  // namespace tandem::detail

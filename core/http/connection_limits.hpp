// How many API connections are open, in all and per peer address, against their caps: one
// client (or a flood of idle ones) must not take every descriptor the engine has.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace tandem::http {

class ConnectionLimits {
public:
    // `total` is held to half the soft RLIMIT_NOFILE (total_cap).
    ConnectionLimits(std::size_t total, std::size_t per_peer);

    // `configured`, held to half the process's soft RLIMIT_NOFILE (at least 1): the other
    // half stays for the engine's own work (fetches, builds, replicas, logs, proxies).
    static std::size_t total_cap(std::size_t configured);

    // Counts a new connection from `peer`; or, when a cap is reached, counts nothing and says
    // which ("32 connections from 127.0.0.1 are open, the most one peer may hold").
    std::optional<std::string> admit(const std::string& peer);
    // A connection admit() counted has closed.
    void release(const std::string& peer);

    std::size_t open() const { return open_; }
    std::size_t total() const { return total_; }

private:
    std::size_t total_;
    std::size_t per_peer_;
    std::size_t open_ = 0;
    std::map<std::string, std::size_t> by_peer_;
};

}  // namespace tandem::http

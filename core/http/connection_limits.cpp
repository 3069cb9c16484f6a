// The caps on the HTTP API's connections.
#include "http/connection_limits.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace tandem::http {

ConnectionLimits::ConnectionLimits(std::size_t total, std::size_t per_peer)
    : total_(total_cap(total)), per_peer_(std::max<std::size_t>(per_peer, 1)) {}

std::size_t ConnectionLimits::total_cap(std::size_t configured) {
    rlimit limit{};
    std::size_t cap = std::max<std::size_t>(configured, 1);
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        cap = std::min<std::size_t>(cap, std::max<rlim_t>(limit.rlim_cur / 2, 1));
    return cap;
}

std::optional<std::string> ConnectionLimits::admit(const std::string& peer) {
    std::size_t& mine = by_peer_[peer];
    if (mine >= per_peer_) {
        return std::to_string(mine) + " connections from " + peer + " are open, the most one peer may hold";
    }
    if (open_ >= total_) {
        if (mine == 0) by_peer_.erase(peer);
        return std::to_string(open_) + " API connections are open, the most the engine takes";
    }
    ++mine;
    ++open_;
    return std::nullopt;
}

void ConnectionLimits::release(const std::string& peer) {
    const auto it = by_peer_.find(peer);
    if (it == by_peer_.end()) return;
    if (--it->second == 0) by_peer_.erase(it);
    --open_;
}

}  // namespace tandem::http

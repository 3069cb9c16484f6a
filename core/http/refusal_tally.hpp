// Refused requests, aggregated before they reach the audit log: a client hammering the API
// without a token must not grow the log by a record per request. Per window (a minute), the
// first refusal of a peer is reported at once and its later ones counted; when the window
// closes, one report per peer says how many more there were. What is reported is bounded:
// each text cut to kMaxText characters, at most kMaxFirst first refusals and kMaxSummaries
// summaries per window (the peers beyond are summed into one report).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tandem::http {

class RefusalTally {
public:
    static constexpr std::size_t kMaxText = 300;
    static constexpr std::size_t kMaxFirst = 10;
    static constexpr std::size_t kMaxSummaries = 10;
    static constexpr std::size_t kMaxPeers = 10000;  // counted one by one; more go to "other peers"
    static constexpr std::chrono::seconds kWindow{60};

    using Report = std::function<void(const std::string& what)>;
    explicit RefusalTally(Report report) : report_(std::move(report)) {}

    // A refusal of a request from `peer`, described by `what`. True when it opens a window:
    // the caller then calls close_window() kWindow later.
    bool refused(const std::string& peer, const std::string& what);
    // Reports how many refusals each peer had beyond the one reported, and starts afresh.
    void close_window();

private:
    struct Peer {
        std::size_t more = 0;  // refusals not reported one by one
        std::string last;      // the last of them
    };
    std::vector<std::string> summaries();

    Report report_;
    std::mutex mutex_;
    bool open_ = false;
    std::size_t first_reported_ = 0;
    std::map<std::string, Peer> peers_;
    std::size_t other_refusals_ = 0;  // from peers beyond kMaxPeers
};

// `text` cut to `limit` characters, ending in "…" when it was cut.
std::string cut_text(const std::string& text, std::size_t limit);

}  // namespace tandem::http

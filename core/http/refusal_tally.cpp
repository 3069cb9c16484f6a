// Aggregating refused requests per peer and window.
#include "http/refusal_tally.hpp"

#include <algorithm>
#include <utility>

namespace tandem::http {

std::string cut_text(const std::string& text, std::size_t limit) {
    if (text.size() <= limit) return text;
    return text.substr(0, limit) + "…";
}

bool RefusalTally::refused(const std::string& peer, const std::string& what) {
    std::string report;
    bool opened = false;
    {
        std::lock_guard lock(mutex_);
        opened = !std::exchange(open_, true);
        auto it = peers_.find(peer);
        if (it == peers_.end() && peers_.size() >= kMaxPeers) {
            ++other_refusals_;
            return opened;
        }
        const bool first = it == peers_.end();
        if (first) it = peers_.emplace(peer, Peer{}).first;
        if (first && first_reported_ < kMaxFirst) {
            ++first_reported_;
            report = cut_text(what, kMaxText);
        } else {
            ++it->second.more;
            it->second.last = what;
        }
    }
    if (!report.empty() && report_) report_(report);
    return opened;
}

std::vector<std::string> RefusalTally::summaries() {
    std::vector<std::pair<std::string, Peer>> counted;
    for (auto& [peer, tally] : peers_)
        if (tally.more > 0) counted.emplace_back(peer, std::move(tally));
    std::sort(counted.begin(), counted.end(), [](const auto& a, const auto& b) { return a.second.more > b.second.more; });
    const std::string window = "in the last " + std::to_string(kWindow.count()) + "s";
    std::vector<std::string> out;
    std::size_t rest = other_refusals_;
    for (const auto& [peer, tally] : counted) {
        if (out.size() < kMaxSummaries) {
            out.push_back(cut_text(std::to_string(tally.more) + (tally.more == 1 ? " more refusal from " : " more refusals from ") + peer + " " + window +
                                       " (the last: " + tally.last,
                                   kMaxText) +
                          ")");
        } else {
            rest += tally.more;
        }
    }
    if (rest > 0)
        out.push_back(std::to_string(rest) + " more refusals from other peers " + window);
    return out;
}

void RefusalTally::close_window() {
    std::vector<std::string> reports;
    {
        std::lock_guard lock(mutex_);
        reports = summaries();
        peers_.clear();
        other_refusals_ = 0;
        first_reported_ = 0;
        open_ = false;
    }
    if (report_)
        for (const auto& report : reports) report_(report);
}

}  // namespace tandem::http

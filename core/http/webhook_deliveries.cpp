// RecentDeliveries: two maps (body digest -> entry, delivery id -> digest) and a queue in
// acceptance order for expiry and eviction.
#include "http/webhook_deliveries.hpp"

#include <iterator>

namespace tandem::http {

RecentDeliveries::RecentDeliveries(std::chrono::milliseconds window, std::size_t capacity)
    : window_(window), capacity_(capacity == 0 ? 1 : capacity) {}

std::optional<RecentDeliveries::Replay> RecentDeliveries::admit(const std::string& id, const std::string& body_digest,
                                                                Clock::time_point now) {
    std::lock_guard lock(mutex_);
    expire(now);
    auto seen = by_digest_.find(body_digest);
    if (seen == by_digest_.end() && !id.empty()) {
        if (auto known = digest_of_id_.find(id); known != digest_of_id_.end()) seen = by_digest_.find(known->second);
    }
    if (seen != by_digest_.end()) {
        Entry& entry = seen->second;
        ++entry.replays;
        return Replay{entry.id, now - entry.accepted, entry.replays};
    }
    while (by_digest_.size() >= capacity_ && !order_.empty()) {
        erase(order_.front().second);
        order_.pop_front();
    }
    by_digest_.emplace(body_digest, Entry{id, now, 0});
    if (!id.empty()) digest_of_id_[id] = body_digest;
    order_.emplace_back(now, body_digest);
    return std::nullopt;
}

void RecentDeliveries::forget(const std::string& body_digest) {
    std::lock_guard lock(mutex_);
    erase(body_digest);
    // Most likely the newest: it was admitted a moment ago.
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
        if (it->second != body_digest) continue;
        order_.erase(std::next(it).base());
        break;
    }
}

std::size_t RecentDeliveries::size() const {
    std::lock_guard lock(mutex_);
    return by_digest_.size();
}

void RecentDeliveries::expire(Clock::time_point now) {
    while (!order_.empty() && now - order_.front().first >= window_) {
        auto entry = by_digest_.find(order_.front().second);
        // Only the entry this queue item was made for: a forgotten digest may have come back since.
        if (entry != by_digest_.end() && entry->second.accepted == order_.front().first) erase(order_.front().second);
        order_.pop_front();
    }
}

void RecentDeliveries::erase(const std::string& body_digest) {
    const auto entry = by_digest_.find(body_digest);
    if (entry == by_digest_.end()) return;
    if (!entry->second.id.empty()) {
        const auto id = digest_of_id_.find(entry->second.id);
        if (id != digest_of_id_.end() && id->second == body_digest) digest_of_id_.erase(id);
    }
    by_digest_.erase(entry);
}

}  // namespace tandem::http

// The push deliveries the webhook accepted lately, so that a replay of one (the same signed
// body, or the same delivery id) is refused instead of starting another sync. Bounded: entries
// expire after a window, and past `capacity` the oldest is forgotten.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace tandem::http {

class RecentDeliveries {
public:
    using Clock = std::chrono::steady_clock;

    RecentDeliveries(std::chrono::milliseconds window, std::size_t capacity);

    // A delivery seen before, and how often it has come back since.
    struct Replay {
        std::string id;                // the delivery id first accepted with it ("" when it had none)
        Clock::duration since_first;  // how long ago it was accepted
        std::uint64_t replays = 0;     // this one included
    };

    // Remembers a new delivery (nullopt), or counts and returns a replay: the same body digest,
    // or the same non-empty delivery id, accepted within the window.
    std::optional<Replay> admit(const std::string& id, const std::string& body_digest, Clock::time_point now);
    // Forgets a delivery admitted but not acted on (the engine was busy): its retry is new.
    void forget(const std::string& body_digest);

    std::size_t size() const;

private:
    struct Entry {
        std::string id;
        Clock::time_point accepted;
        std::uint64_t replays = 0;
    };
    void expire(Clock::time_point now);
    void erase(const std::string& body_digest);

    std::chrono::milliseconds window_;
    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry> by_digest_;
    std::map<std::string, std::string> digest_of_id_;
    std::deque<std::pair<Clock::time_point, std::string>> order_;  // oldest first
};

}  // namespace tandem::http

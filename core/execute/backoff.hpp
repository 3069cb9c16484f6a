// When to restart a crashed replica: exponential backoff from `initial` doubling up to `max`,
// back to `initial` once a replica has run `stable_after` without crashing. Pure.
#pragma once

#include <tandem/spec.hpp>

#include <chrono>

namespace tandem::execute {

class Backoff {
public:
    using Clock = std::chrono::steady_clock;
    Backoff(Duration initial, Duration max, Duration stable_after);

    // A replica started at `started` crashed at `crashed`: how long to wait before the next start.
    Duration next_delay(Clock::time_point started, Clock::time_point crashed);
    int consecutive_crashes() const { return crashes_; }
    void reset() { crashes_ = 0; }

private:
    Duration initial_, max_, stable_after_;
    int crashes_ = 0;
};

}  // namespace tandem::execute

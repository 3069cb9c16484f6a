// Restart backoff: doubling, the cap, and the reset after a stable run.
#include "execute/backoff.hpp"

#include <doctest/doctest.h>

namespace {

using tandem::Duration;
using tandem::execute::Backoff;
using namespace std::chrono_literals;

TEST_CASE("backoff doubles from the initial delay up to the cap") {
    Backoff backoff(Duration{100}, Duration{1000}, Duration{10000});
    const auto t0 = Backoff::Clock::time_point{} + 1h;
    const auto crash_soon = [&] { return backoff.next_delay(t0, t0 + 50ms); };
    CHECK(crash_soon() == Duration{100});
    CHECK(crash_soon() == Duration{200});
    CHECK(crash_soon() == Duration{400});
    CHECK(crash_soon() == Duration{800});
    CHECK(crash_soon() == Duration{1000});
    CHECK(crash_soon() == Duration{1000});
    CHECK(backoff.consecutive_crashes() == 6);
    for (int i = 0; i < 100; ++i) CHECK(crash_soon() == Duration{1000});  // no overflow
}

TEST_CASE("backoff starts over after a replica ran for the stable period") {
    Backoff backoff(Duration{100}, Duration{1000}, Duration{10000});
    const auto t0 = Backoff::Clock::time_point{} + 1h;
    CHECK(backoff.next_delay(t0, t0 + 1s) == Duration{100});
    CHECK(backoff.next_delay(t0, t0 + 1s) == Duration{200});
    CHECK(backoff.next_delay(t0, t0 + 1s) == Duration{400});
    // Just short of stable: keeps doubling.
    CHECK(backoff.next_delay(t0, t0 + 9999ms) == Duration{800});
    // Stable: this crash is the first of a new series.
    CHECK(backoff.next_delay(t0, t0 + 10s) == Duration{100});
    CHECK(backoff.consecutive_crashes() == 1);
    CHECK(backoff.next_delay(t0, t0 + 1s) == Duration{200});
    backoff.reset();
    CHECK(backoff.consecutive_crashes() == 0);
    CHECK(backoff.next_delay(t0, t0 + 1s) == Duration{100});
}

TEST_CASE("backoff with a cap below the initial delay waits the initial delay") {
    Backoff backoff(Duration{500}, Duration{100}, Duration{10000});
    const auto t0 = Backoff::Clock::time_point{};
    CHECK(backoff.next_delay(t0, t0) == Duration{500});
    CHECK(backoff.next_delay(t0, t0) == Duration{500});
}

}  // namespace

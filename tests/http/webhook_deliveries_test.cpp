// RecentDeliveries on its own: a replay within the window, expiry after it, and the cap.
#include <doctest/doctest.h>

#include "http/webhook_deliveries.hpp"

using tandem::http::RecentDeliveries;
using namespace std::chrono_literals;

TEST_CASE("recent deliveries recognise a replay by body or id, forget it after the window, and keep at most their capacity") {
    RecentDeliveries recent(1h, 3);
    const auto t0 = RecentDeliveries::Clock::time_point{} + 24h;
    CHECK_FALSE(recent.admit("id-a", "digest-a", t0));
    const auto by_body = recent.admit("", "digest-a", t0 + 10s);
    REQUIRE(by_body);
    CHECK(by_body->id == "id-a");
    CHECK(by_body->since_first == 10s);
    CHECK(by_body->replays == 1);
    const auto by_id = recent.admit("id-a", "another body", t0 + 20s);
    REQUIRE(by_id);
    CHECK(by_id->replays == 2);

    // An hour after it was accepted, the delivery is new again.
    CHECK_FALSE(recent.admit("id-a", "digest-a", t0 + 1h));
    CHECK(recent.size() == 1);

    // Past the capacity the oldest goes first: a flood of new deliveries cannot grow the set.
    for (int i = 0; i < 100; ++i) CHECK_FALSE(recent.admit("id-" + std::to_string(i), "d" + std::to_string(i), t0 + 1h + 1s));
    CHECK(recent.size() == 3);
    CHECK_FALSE(recent.admit("", "d0", t0 + 1h + 2s));
    CHECK(recent.admit("id-99", "x", t0 + 1h + 2s));

    // A delivery forgotten (the engine was busy) is new when it comes back.
    CHECK_FALSE(recent.admit("id-b", "digest-b", t0 + 1h + 3s));
    recent.forget("digest-b");
    CHECK_FALSE(recent.admit("id-b", "digest-b", t0 + 1h + 4s));
}

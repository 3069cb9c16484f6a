// The API's Server-Sent Events: the events stream, followed logs, and bounded queues.
#include <doctest/doctest.h>

#include "http/api_fixture.hpp"
#include "http/event_stream.hpp"

#include <nlohmann/json.hpp>

using nlohmann::json;
using tandem::RuntimeEvent;
using tandem::RuntimeEventKind;
using tandem::test::ApiFixture;
using tandem::test::RawConnection;

namespace {

// The data of every `event: NAME` in a stream's text, parsed.
std::vector<json> events_named(const std::string& text, const std::string& name) {
    std::vector<json> out;
    const std::string marker = "event: " + name + "\ndata: ";
    for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
        const auto start = at + marker.size();
        const auto end = text.find('\n', start);
        if (end == std::string::npos) break;
        out.push_back(json::parse(text.substr(start, end - start)));
    }
    return out;
}

RuntimeEvent build_done(const std::string& service, int elapsed_ms) {
    RuntimeEvent event{RuntimeEventKind::action, service, "build done", 0, false, std::chrono::system_clock::now()};
    event.action = tandem::ActionKind::build;
    event.outcome = tandem::ActionOutcome::succeeded;
    event.elapsed = tandem::Duration(elapsed_ms);
    return event;
}

void open_stream(RawConnection& connection, const std::string& path) {
    REQUIRE(connection.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
}

}  // namespace

TEST_CASE("the events stream sends the status on connect, then each runtime event and a fresh status") {
    ApiFixture f;
    RawConnection stream(f.port);
    open_stream(stream, "/api/v1/events");
    REQUIRE(stream.read_until("event: status"));
    CHECK(stream.received().find("Content-Type: text/event-stream") != std::string::npos);

    auto services = f.engine.services;
    services[0].state = tandem::ServiceState::crashed;
    f.engine.set_services(services);
    f.api->publish(build_done("api", 412));
    f.api->publish(RuntimeEvent{RuntimeEventKind::state, "api", "crashed", 0, false, {}});
    REQUIRE(stream.read_until(R"("text":"crashed")"));  // the second runtime event
    REQUIRE(stream.read_until(R"("state":"crashed")"));  // a status sent after the change

    const auto runtime = events_named(stream.received(), "runtime");
    REQUIRE(runtime.size() == 2);
    CHECK(runtime[0]["kind"] == "action");
    CHECK(runtime[0]["service"] == "api");
    CHECK(runtime[0]["text"] == "build done");
    CHECK(runtime[0]["action"] == "build");
    CHECK(runtime[0]["outcome"] == "succeeded");
    CHECK(runtime[0]["elapsed_ms"] == 412);
    CHECK(runtime[0]["replica"] == 0);
    CHECK(runtime[0]["stderr"] == false);
    CHECK_FALSE(runtime[1].contains("elapsed_ms"));  // only an action that ended has one
    CHECK_FALSE(runtime[1].contains("action"));
    const auto statuses = events_named(stream.received(), "status");
    REQUIRE(statuses.size() >= 2);
    CHECK(statuses.back()["services"][0]["state"] == "crashed");
    CHECK(statuses.back()["you"]["role"] == "admin");
}

TEST_CASE("log events reach only streams whose role may read logs") {
    tandem::HttpApiOptions options;
    options.require_token = true;
    options.roles = {tandem::AccessRole{"watcher", {"status"}, {}}};
    options.tokens = {{"board", "watcher", "board-secret", ""}, {"alice", "admin", "admin-secret", ""}};
    ApiFixture f(options);
    RawConnection watcher(f.port), admin(f.port);
    open_stream(watcher, "/api/v1/events?access_token=board-secret");
    open_stream(admin, "/api/v1/events?access_token=admin-secret");
    REQUIRE(watcher.read_until("event: status"));
    REQUIRE(admin.read_until("event: status"));
    f.api->publish(RuntimeEvent{RuntimeEventKind::log, "api", "a secret line", 1, false, {}});
    f.api->publish(RuntimeEvent{RuntimeEventKind::state, "api", "ready again", 0, false, {}});
    REQUIRE(watcher.read_until("ready again"));
    REQUIRE(admin.read_until("ready again"));
    CHECK(watcher.received().find("a secret line") == std::string::npos);
    CHECK(admin.received().find("a secret line") != std::string::npos);
}

TEST_CASE("following logs sends the tail, then each new line, and stops following when the client leaves") {
    ApiFixture f;
    {
        RawConnection stream(f.port);
        open_stream(stream, "/api/v1/services/api/logs?tail=2&follow=1");
        REQUIRE(stream.read_until(R"({"line":"line 3"})"));
        CHECK(stream.received().find("line 1") == std::string::npos);
        REQUIRE(f.engine.wait_for_followers(1));
        f.engine.push_line("line 4");
        REQUIRE(stream.read_until("event: log\ndata: {\"line\":\"line 4\"}\n\n"));
    }
    CHECK(f.engine.wait_for_unfollow(1));
    CHECK(f.engine.wait_for_followers(0));
}

TEST_CASE("destroying the API ends its streams and stops following") {
    ApiFixture f;
    RawConnection logs(f.port), events(f.port);
    open_stream(logs, "/api/v1/services/api/logs?follow=1");
    open_stream(events, "/api/v1/events");
    REQUIRE(logs.read_until("line 3"));
    REQUIRE(events.read_until("event: status"));
    f.api.reset();
    CHECK(f.engine.wait_for_unfollow(1));
    CHECK(logs.closed_by_server());
    CHECK(events.closed_by_server());
}

TEST_CASE("a client that reads nothing holds up no publisher: its stream drops the oldest lines and says so") {
    ApiFixture f;
    RawConnection stream(f.port);
    open_stream(stream, "/api/v1/events");
    REQUIRE(stream.read_until("event: status"));
    // Far more than the socket buffers and the stream's queue hold together.
    const std::string text(1000, 'x');
    for (int i = 0; i < 50'000; ++i) f.api->publish(RuntimeEvent{RuntimeEventKind::log, "api", text, 1, false, {}});
    f.api->publish(RuntimeEvent{RuntimeEventKind::state, "api", "the last event", 0, false, {}});
    REQUIRE(stream.read_until("the last event", std::chrono::seconds(30)));
    const auto dropped = events_named(stream.received(), "dropped");
    REQUIRE_FALSE(dropped.empty());
    CHECK(dropped[0]["count"].get<int>() > 0);
}

TEST_CASE("a stream's queue drops its oldest log line first, keeps the latest status, and counts what it dropped") {
    int wakes = 0;
    tandem::http::StreamQueue queue(3, [&wakes] { ++wakes; });
    queue.push("A", false);
    queue.push("1", true);
    queue.set_status("S1");
    queue.push("2", true);
    queue.push("3", true);
    queue.set_status("S2");
    CHECK(wakes == 1);  // once, when the queue stopped being empty
    CHECK(queue.take() == "event: dropped\ndata: {\"count\":1}\n\nA23S2");
    CHECK(queue.take().empty());
    queue.push("4", true);
    CHECK(wakes == 2);
}

// Hostile clients of the HTTP API (issue 13, defects 5 and 7): idle connections beyond the
// caps are turned away while other peers are served, a client that trickles its request
// header is closed, and a flood of refused requests is reported as a count.
#include <doctest/doctest.h>

#include "http/api_fixture.hpp"
#include "http/refusal_tally.hpp"

#include <memory>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using tandem::HttpApiOptions;
using tandem::test::ApiFixture;
using tandem::test::parse_http_reply;
using tandem::test::RawConnection;

namespace {

// GET `path` from `from`, the whole reply (HTTP/1.0: the server closes).
std::optional<tandem::test::HttpReply> get_from(int port, const std::string& from, const std::string& path) {
    RawConnection connection(port, from);
    if (!connection.send("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n") || !connection.closed_by_server(5000ms))
        return std::nullopt;
    return parse_http_reply(connection.received());
}

// Connections from `from` that send nothing, held open.
std::vector<std::unique_ptr<RawConnection>> idle_connections(int port, const std::string& from, int count) {
    std::vector<std::unique_ptr<RawConnection>> out;
    for (int i = 0; i < count; ++i) {
        out.push_back(std::make_unique<RawConnection>(port, from));
        REQUIRE(out.back()->connected());
    }
    return out;
}

// What a connection opened from `from` is told without asking anything: a 503 and a close
// when over a cap, nothing (nullopt) while the server keeps it open for a request.
std::optional<std::string> turned_away(int port, const std::string& from) {
    RawConnection connection(port, from);
    REQUIRE(connection.connected());
    if (!connection.closed_by_server(2000ms)) return std::nullopt;
    return connection.received();
}

}  // namespace

TEST_CASE("idle connections over the per-peer and total caps are turned away with 503 and other peers are served") {
    HttpApiOptions options;
    options.max_connections = 6;
    options.max_connections_per_peer = 4;
    options.header_timeout = 60s;  // the idle ones stay for the whole test
    ApiFixture f(options);
    auto hog = idle_connections(f.port, "127.0.0.1", 4);
    auto other = idle_connections(f.port, "127.0.0.3", 2);

    const auto per_peer = turned_away(f.port, "127.0.0.1");
    REQUIRE_MESSAGE(per_peer, "a fifth connection from 127.0.0.1 was kept open");
    CHECK_MESSAGE(per_peer->find("503 Service Unavailable") != std::string::npos, *per_peer);
    CHECK_MESSAGE(per_peer->find("4 connections from 127.0.0.1 are open") != std::string::npos, *per_peer);
    const auto total = turned_away(f.port, "127.0.0.4");
    REQUIRE_MESSAGE(total, "a seventh connection was kept open");
    CHECK_MESSAGE(total->find("6 API connections are open") != std::string::npos, *total);

    // The other peer leaves: a newcomer is served while the first one still holds its four.
    other.clear();
    CHECK(tandem::test::eventually([&] {
        const auto reply = get_from(f.port, "127.0.0.2", "/api/v1/status");
        return reply && reply->status == 200;
    }, 5000ms));
    const auto metrics = get_from(f.port, "127.0.0.2", "/metrics");
    REQUIRE(metrics);
    // Two turned away above, and any try of the newcomer's made before the other peer's close was seen.
    const std::string counter = "tandem_http_requests_total{code=\"503\"} ";
    const auto at = metrics->body.find(counter);
    REQUIRE_MESSAGE(at != std::string::npos, metrics->body);
    CHECK(std::stoi(metrics->body.substr(at + counter.size())) >= 2);
}

TEST_CASE("a client that sends nothing, or trickles its request header, is closed after the header timeout") {
    HttpApiOptions options;
    options.header_timeout = 1s;
    ApiFixture f(options);
    RawConnection silent(f.port);
    CHECK(silent.closed_by_server(10000ms));

    RawConnection trickle(f.port);
    REQUIRE(trickle.send("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    bool closed = false;
    for (int i = 0; i < 50 && !closed; ++i) {  // a header line every 200 ms, for up to 10 s
        closed = !trickle.send("X-Slow-" + std::to_string(i) + ": 1\r\n") || trickle.closed_by_server(200ms);
    }
    CHECK_MESSAGE(closed, "the server kept a connection whose header never ended");
    CHECK(trickle.received().empty());

    // A prompt client is served on the same server, and its kept-alive connection too.
    RawConnection prompt(f.port);
    REQUIRE(prompt.send("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    CHECK(prompt.read_until("\"services\"", 5000ms));
}

TEST_CASE("a kept-alive connection idle for the idle timeout is closed") {
    HttpApiOptions options;
    options.idle_timeout = 1s;
    ApiFixture f(options);
    RawConnection kept(f.port);
    REQUIRE(kept.send("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    REQUIRE(kept.read_until("\"services\"", 5000ms));
    CHECK(kept.closed_by_server(10000ms));
}

TEST_CASE("2000 refused requests from one peer are reported as the first refusal and one count, each text bounded") {
    HttpApiOptions options;
    options.require_token = true;
    options.tokens = tandem::test::role_tokens();
    auto f = std::make_unique<ApiFixture>(options);
    const std::string long_path = "/api/v1/services/" + std::string(10000, 'x') + "/logs";  // 10 KB a refusal
    for (int i = 0; i < 2000; ++i) {
        const auto reply = f->get(i % 2 ? long_path : "/api/v1/status");
        REQUIRE(reply);
        REQUIRE(reply->status == 401);
    }
    CHECK(f->denied() == std::vector<std::string>{"401 GET /api/v1/status from 127.0.0.1: no token"});
    f->api.reset();  // the count is reported when the API stops (or its minute ends)
    const auto reports = f->denied();
    REQUIRE(reports.size() == 2);
    CHECK_MESSAGE(reports[1].rfind("1999 more refusals from 127.0.0.1 in the last 60s", 0) == 0, reports[1]);
    for (const auto& report : reports) CHECK(report.size() < 400);
}

TEST_CASE("refusals from 50 peers in one window make at most 21 reports of at most 300 characters, and every count") {
    std::vector<std::string> reports;
    tandem::http::RefusalTally tally([&](const std::string& what) { reports.push_back(what); });
    int opened = 0;
    for (int round = 0; round < 3; ++round)
        for (int peer = 0; peer < 50; ++peer) {
            const std::string address = "10.0.0." + std::to_string(peer);
            opened += tally.refused(address, "401 GET /" + std::string(1000, 'x') + " from " + address + ": no token");
        }
    CHECK(opened == 1);
    CHECK(reports.size() == tandem::http::RefusalTally::kMaxFirst);  // peers 0-9, at once
    tally.close_window();
    REQUIRE(reports.size() == 21);
    for (const auto& report : reports) CHECK(report.size() <= tandem::http::RefusalTally::kMaxText + 4);
    // Peers 10-49 had 3 counted refusals each, peers 0-9 two: ten named, the rest summed.
    CHECK_MESSAGE(reports[10].rfind("3 more refusals from 10.0.0.", 0) == 0, reports[10]);
    CHECK(reports.back() == "110 more refusals from other peers in the last 60s");
    CHECK(tally.refused("10.0.0.1", "401 again"));  // a new window
}

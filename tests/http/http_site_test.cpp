// Requests from another web site's page (issue 13, defect 6): a cross-site POST must not reset
// a database, and a page reaching the engine through DNS rebinding must not read anything,
// with or without security.strict; the engine's own page and programs still work.
#include <doctest/doctest.h>

#include "http/api_fixture.hpp"

#include <nlohmann/json.hpp>

using namespace std::chrono_literals;
using nlohmann::json;
using tandem::HttpApiOptions;
using tandem::test::ApiFixture;
using tandem::test::bearer;
using tandem::test::HttpHeaders;
using tandem::test::parse_http_reply;
using tandem::test::RawConnection;

namespace {

// A request as a browser sends it: HTTP/1.1 with its own Host (no other), closed after the reply.
std::optional<tandem::test::HttpReply> browser_request(int port, const std::string& method, const std::string& path,
                                                       const std::string& host, const HttpHeaders& headers,
                                                       const std::string& body = {}) {
    RawConnection connection(port);
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n";
    for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (!connection.send(request) || !connection.closed_by_server(5000ms)) return std::nullopt;
    return parse_http_reply(connection.received());
}

HttpApiOptions strict_or_not(bool strict) {
    HttpApiOptions options;
    options.require_token = strict;
    options.tokens = tandem::test::role_tokens();
    return options;
}

}  // namespace

TEST_CASE("a cross-site POST to reset is refused with 403 under every policy, and the reset does not run") {
    for (const bool strict : {false, true}) {
        CAPTURE(strict);
        ApiFixture f(strict_or_not(strict));
        const std::string host = "127.0.0.1:" + std::to_string(f.port);
        // The form a page on evil.example posts: a "simple" request, no preflight.
        const auto evil = browser_request(f.port, "POST", "/api/v1/services/store/reset", host,
                                          {{"Origin", "http://evil.example"}, {"Content-Type", "text/plain"}}, "x");
        REQUIRE(evil);
        CHECK(evil->status == 403);
        CHECK(json::parse(evil->body)["error"]["code"] == "cross_site");
        CHECK_MESSAGE(evil->body.find("http://evil.example") != std::string::npos, evil->body);
        // Without Origin, as some browsers send a form: Sec-Fetch-Site still tells.
        CHECK(browser_request(f.port, "POST", "/api/v1/services/store/reset", host,
                              {{"Sec-Fetch-Site", "cross-site"}})->status == 403);
        // A sandboxed page's "null" origin, and a page on another port of the same host.
        CHECK(browser_request(f.port, "POST", "/api/v1/sync", host, {{"Origin", "null"}})->status == 403);
        CHECK(browser_request(f.port, "POST", "/api/v1/services/store/reset", host,
                              {{"Origin", "http://127.0.0.1:3000"}, {"Sec-Fetch-Site", "same-site"}})->status == 403);
        CHECK(f.engine.calls().empty());
        const auto denied = f.denied();
        REQUIRE(!denied.empty());
        CHECK_MESSAGE(denied.front().rfind("403 POST /api/v1/services/store/reset from 127.0.0.1: a POST from origin "
                                           "'http://evil.example' is refused", 0) == 0, denied.front());
    }
}

TEST_CASE("the engine's own page and programs may still act: same origin, no origin, or a token") {
    ApiFixture f(strict_or_not(false));
    const std::string host = "127.0.0.1:" + std::to_string(f.port);
    const auto page = browser_request(f.port, "POST", "/api/v1/services/store/reset", host,
                                      {{"Origin", "http://" + host}, {"Sec-Fetch-Site", "same-origin"},
                                       {"Content-Type", "application/json"}});
    REQUIRE(page);
    CHECK_MESSAGE(page->status == 200, page->body);
    const auto by_name = browser_request(f.port, "POST", "/api/v1/services/api/trigger", "LOCALHOST:" + std::to_string(f.port),
                                         {{"Origin", "http://localhost:" + std::to_string(f.port)}});
    CHECK(by_name->status == 200);
    CHECK(f.post("/api/v1/services/api/restart")->status == 200);  // a program: no Origin, no Sec-Fetch-Site
    // A token the page could not know lets a request through whatever its origin says.
    CHECK(browser_request(f.port, "POST", "/api/v1/services/api/trigger", host,
                          {{"Origin", "http://elsewhere.example"}, {"Authorization", "Bearer admin-secret"}})->status == 200);
    CHECK(f.engine.calls() == std::vector<std::string>{"reset store", "trigger api", "restart api", "trigger api"});
}

TEST_CASE("a request naming another host (DNS rebinding) gets 421 and reads nothing, while loopback and allowed names pass") {
    HttpApiOptions options;
    options.allowed_hosts = {"Dev.Example"};
    ApiFixture f(options);
    const std::string port = std::to_string(f.port);
    const auto rebound = browser_request(f.port, "GET", "/api/v1/services/api/logs?tail=10", "rebind.evil.example:" + port, {});
    REQUIRE(rebound);
    CHECK(rebound->status == 421);
    CHECK(json::parse(rebound->body)["error"]["code"] == "misdirected");
    CHECK_MESSAGE(rebound->body.find("rebind.evil.example") != std::string::npos, rebound->body);
    CHECK(rebound->body.find("line 1") == std::string::npos);
    CHECK(browser_request(f.port, "GET", "/api/v1/status", "rebind.evil.example", {})->status == 421);
    CHECK(browser_request(f.port, "POST", "/api/v1/services/store/reset", "rebind.evil.example:" + port,
                          {{"Origin", "http://rebind.evil.example:" + port}})->status == 421);
    CHECK(f.engine.calls().empty());
    for (const std::string& host : {"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, std::string("127.0.0.1"),
                                   "dev.example:" + port}) {
        CAPTURE(host);
        const auto reply = browser_request(f.port, "GET", "/api/v1/services/api/logs?tail=10", host, {});
        REQUIRE(reply);
        CHECK(reply->status == 200);
        CHECK(reply->body.find("line 1") != std::string::npos);
    }
}

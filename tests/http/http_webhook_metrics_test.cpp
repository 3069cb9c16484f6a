// The git push webhook and the Prometheus metrics of the HTTP API.
#include <doctest/doctest.h>

#include "http/api_fixture.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <regex>
#include <set>

using nlohmann::json;
using tandem::HttpApiOptions;
using tandem::RuntimeEvent;
using tandem::RuntimeEventKind;
using tandem::test::ApiFixture;
using tandem::test::HttpHeaders;

namespace {

HttpApiOptions with_webhook() {
    HttpApiOptions options;
    options.webhook_secret = "It's a Secret to Everybody";
    return options;
}

const std::string kPush = R"({"ref":"refs/heads/main","after":"1a2b3c"})";

HttpHeaders signed_event(const std::string& event, const std::string& body, const std::string& header = "X-GitHub-Event") {
    return {{header, event}, {"X-Hub-Signature-256", tandem::hub_signature("It's a Secret to Everybody", body)}};
}

RuntimeEvent action_event(const std::string& service, const std::string& action, const std::string& outcome,
                          int elapsed_ms) {
    RuntimeEvent event{RuntimeEventKind::action, service, action + " " + outcome, 0, false, {}};
    event.action = action;
    event.outcome = outcome;
    event.elapsed = tandem::Duration(elapsed_ms);
    return event;
}

}  // namespace

TEST_CASE("a signed push answers 202 and starts a sync as 'webhook'") {
    ApiFixture f(with_webhook());
    const auto reply = f.post("/api/v1/webhook/git", kPush, signed_event("push", kPush));
    REQUIRE(reply);
    CHECK(reply->status == 202);
    REQUIRE(f.engine.wait_for_call("sync"));
    CHECK(f.engine.actors() == std::vector<std::string>{"webhook"});
    CHECK(f.post("/api/v1/webhook/git", kPush, signed_event("push", kPush, "X-Gitea-Event"))->status == 202);
}

TEST_CASE("a webhook with a bad or no signature answers 401 and is reported, and nothing syncs") {
    ApiFixture f(with_webhook());
    HttpHeaders forged = signed_event("push", "another body");
    CHECK(f.post("/api/v1/webhook/git", kPush, forged)->status == 401);
    CHECK(f.post("/api/v1/webhook/git", kPush, {{"X-GitHub-Event", "push"}})->status == 401);
    CHECK(f.post("/api/v1/webhook/git", kPush, signed_event("ping", "x"))->status == 401);  // a ping is checked too
    CHECK(f.engine.calls().empty());
    f.api.reset();  // the later refusals of the minute are reported as a count
    CHECK(f.denied() == std::vector<std::string>{
                            "401 POST /api/v1/webhook/git from 127.0.0.1: webhook: bad signature",
                            "2 more refusals from 127.0.0.1 in the last 60s (the last: 401 POST /api/v1/webhook/git "
                            "from 127.0.0.1: webhook: bad signature)"});
}

TEST_CASE("a signed ping answers 200 and syncs nothing") {
    ApiFixture f(with_webhook());
    const std::string body = R"({"zen":"Keep it logically awesome."})";
    const auto reply = f.post("/api/v1/webhook/git", body, signed_event("ping", body));
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK(json::parse(reply->body) == json{{"pong", true}});
    CHECK(f.engine.calls().empty());
}

TEST_CASE("without a webhook secret the webhook's path answers 404") {
    ApiFixture f;
    CHECK(f.post("/api/v1/webhook/git", kPush, signed_event("push", kPush))->status == 404);
    CHECK(f.engine.calls().empty());
}

TEST_CASE("metrics count rollouts, time builds and rollouts, and read gauges from the engine") {
    ApiFixture f;
    f.api->publish(action_event("api", "build", "started", -1));
    f.api->publish(action_event("api", "build", "succeeded", 412));
    f.api->publish(action_event("api", "replace", "started", -1));
    f.api->publish(action_event("api", "replace", "succeeded", 1500));
    f.api->publish(action_event("store", "start", "failed", 80));
    CHECK(f.get("/nowhere")->status == 404);
    const auto reply = f.get("/metrics");
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK(reply->header("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
    const std::string& text = reply->body;
    for (const std::string line : {
             R"(tandem_rollouts_total{service="api",outcome="succeeded"} 1)",
             R"(tandem_rollouts_total{service="store",outcome="failed"} 1)",
             R"(tandem_build_duration_seconds_bucket{service="api",le="0.25"} 0)",
             R"(tandem_build_duration_seconds_bucket{service="api",le="0.5"} 1)",
             R"(tandem_build_duration_seconds_bucket{service="api",le="+Inf"} 1)",
             R"(tandem_build_duration_seconds_sum{service="api"} 0.412)",
             R"(tandem_build_duration_seconds_count{service="api"} 1)",
             R"(tandem_rollout_duration_seconds_bucket{service="api",le="1"} 0)",
             R"(tandem_rollout_duration_seconds_bucket{service="api",le="2.5"} 1)",
             R"(tandem_rollout_duration_seconds_count{service="store"} 1)",
             R"(tandem_service_restarts{service="api"} 0)",
             R"(tandem_service_ready_replicas{service="api"} 1)",
             R"(tandem_service_errors_total{service="api",kind="crashes"} 2)",
             R"(tandem_service_errors_total{service="api",kind="proxy_errors"} 0)",
             R"(tandem_proxy_connections_total{service="store"} 12)",
             R"(tandem_reconciles_total 7)",
             R"(tandem_audit_records_total 3)",
             R"(tandem_http_requests_total{code="404"} 1)",
             "# TYPE tandem_build_duration_seconds histogram",
         }) {
        INFO(line);
        CHECK(text.find(line + "\n") != std::string::npos);
    }
    CHECK(text.find(R"(outcome="started")") == std::string::npos);
}

TEST_CASE("every metric in docs/http-api.md's table is served, and none that is not documented") {
    ApiFixture f;
    f.api->publish(action_event("api", "build", "succeeded", 412));
    f.api->publish(action_event("api", "replace", "succeeded", 412));
    CHECK(f.get("/api/v1/status")->status == 200);
    const std::string text = f.get("/metrics")->body;
    const std::string doc = tandem::test::read_text(std::filesystem::path(TANDEM_SOURCE_DIR) / "docs" / "http-api.md");
    const std::regex documented(R"(\| `(tandem_[a-z_]+))");
    std::set<std::string> in_doc, served;
    for (std::sregex_iterator it(doc.begin(), doc.end(), documented), end; it != end; ++it) in_doc.insert((*it)[1]);
    const std::regex type_line(R"(# TYPE (tandem_[a-z_]+) )");
    for (std::sregex_iterator it(text.begin(), text.end(), type_line), end; it != end; ++it) served.insert((*it)[1]);
    CHECK(in_doc.size() >= 10);
    CHECK(served == in_doc);
}

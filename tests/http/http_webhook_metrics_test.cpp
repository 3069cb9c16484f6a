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

RuntimeEvent action_event(const std::string& service, tandem::ActionKind action, tandem::ActionOutcome outcome,
                          int elapsed_ms) {
    RuntimeEvent event{RuntimeEventKind::action, service,
                       std::string(to_string(action)) + " " + to_string(outcome), 0, false, {}};
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
    const std::string gitea_push = R"({"ref":"refs/heads/main","after":"4d5e6f"})";  // another push: another body
    CHECK(f.post("/api/v1/webhook/git", gitea_push, signed_event("push", gitea_push, "X-Gitea-Event"))->status == 202);
}

TEST_CASE("a replayed push delivery answers 409, syncs nothing and is audited as a refusal") {
    ApiFixture f(with_webhook());
    HttpHeaders delivery = signed_event("push", kPush);
    delivery.emplace_back("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    REQUIRE(f.post("/api/v1/webhook/git", kPush, delivery)->status == 202);
    REQUIRE(f.engine.wait_for_call("sync"));

    // The same delivery again, as captured; then with the delivery id changed (it is not signed).
    const auto again = f.post("/api/v1/webhook/git", kPush, delivery);
    REQUIRE(again);
    CHECK(again->status == 409);
    CHECK(json::parse(again->body)["error"]["code"] == "replayed");
    HttpHeaders renamed = signed_event("push", kPush);
    renamed.emplace_back("X-GitHub-Delivery", "00000000-0000-0000-0000-000000000000");
    CHECK(f.post("/api/v1/webhook/git", kPush, renamed)->status == 409);
    for (int i = 0; i < 6; ++i) CHECK(f.post("/api/v1/webhook/git", kPush, delivery)->status == 409);

    // A new push is acted on, and only it: the replays started no sync of their own.
    const std::string next = R"({"ref":"refs/heads/main","after":"9f8e7d"})";
    CHECK(f.post("/api/v1/webhook/git", next, signed_event("push", next))->status == 202);
    REQUIRE(tandem::test::eventually([&] { return f.engine.actors().size() >= 2; }, std::chrono::milliseconds(5000)));
    CHECK(f.engine.actors() == std::vector<std::string>{"webhook", "webhook"});
    // 8 replays from one peer: the first is recorded at once, the others are counted by the
    // refusal tally (one summary when its minute closes).
    const auto denied = f.denied();
    REQUIRE(denied.size() == 1);
    CHECK(denied[0].rfind("409 POST /api/v1/webhook/git from 127.0.0.1: webhook: replay of delivery "
                          "72d3162e-cc78-11e3-81ab-4c9367dc0958 accepted ", 0) == 0);
    CHECK(denied[0].find("(replay 1)") != std::string::npos);
}

TEST_CASE("a push without a delivery id is recognised by its body when replayed") {
    ApiFixture f(with_webhook());
    CHECK(f.post("/api/v1/webhook/git", kPush, signed_event("push", kPush))->status == 202);
    REQUIRE(f.engine.wait_for_call("sync"));
    const auto replay = f.post("/api/v1/webhook/git", kPush, signed_event("push", kPush));
    REQUIRE(replay);
    CHECK(replay->status == 409);
    CHECK(replay->body.find("replay of a delivery") != std::string::npos);
    CHECK(f.engine.actors() == std::vector<std::string>{"webhook"});
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
    f.api->publish(action_event("api", tandem::ActionKind::build, tandem::ActionOutcome::started, -1));
    f.api->publish(action_event("api", tandem::ActionKind::build, tandem::ActionOutcome::succeeded, 412));
    f.api->publish(action_event("api", tandem::ActionKind::replace, tandem::ActionOutcome::started, -1));
    f.api->publish(action_event("api", tandem::ActionKind::replace, tandem::ActionOutcome::succeeded, 1500));
    f.api->publish(action_event("store", tandem::ActionKind::start, tandem::ActionOutcome::failed, 80));
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
    f.api->publish(action_event("api", tandem::ActionKind::build, tandem::ActionOutcome::succeeded, 412));
    f.api->publish(action_event("api", tandem::ActionKind::replace, tandem::ActionOutcome::succeeded, 412));
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

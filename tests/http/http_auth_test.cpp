// The HTTP API's tokens and roles (security.strict), and the token file.
#include <doctest/doctest.h>

#include "http/api_fixture.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

using nlohmann::json;
using tandem::ErrorCode;
using tandem::HttpApiOptions;
using tandem::test::ApiFixture;
using tandem::test::bearer;
using tandem::test::RawConnection;

namespace {

HttpApiOptions strict() {
    HttpApiOptions options;
    options.require_token = true;
    options.tokens = tandem::test::role_tokens();
    return options;
}

}  // namespace

TEST_CASE("without a token a strict API answers 401 with WWW-Authenticate and reports the refusal") {
    ApiFixture f(strict());
    const auto reply = f.get("/api/v1/status");
    REQUIRE(reply);
    CHECK(reply->status == 401);
    CHECK(reply->header("WWW-Authenticate") == "Bearer");
    CHECK(json::parse(reply->body)["error"]["code"] == "unauthorized");
    CHECK(f.get("/api/v1/status", bearer("guessed"))->status == 401);
    // The first refusal of a peer at once, the later ones of the minute as a count (at the latest on stop).
    CHECK(f.denied() == std::vector<std::string>{"401 GET /api/v1/status from 127.0.0.1: no token"});
    f.api.reset();
    CHECK(f.denied() == std::vector<std::string>{"401 GET /api/v1/status from 127.0.0.1: no token",
                                                 "1 more refusal from 127.0.0.1 in the last 60s (the last: 401 GET "
                                                 "/api/v1/status from 127.0.0.1: unknown token)"});
}

TEST_CASE("a viewer reads but may not act: 403, reported, and the engine is not asked") {
    ApiFixture f(strict());
    const auto status = f.get("/api/v1/status", bearer("viewer-secret"));
    REQUIRE(status);
    CHECK(status->status == 200);
    const json document = json::parse(status->body);
    CHECK(document["you"] == json{{"token", "grafana"}, {"role", "viewer"}});
    CHECK(document["actions"]["sync"] == json{{"allowed", false}, {"reason", "role 'viewer' may not sync"}});
    const auto sync = f.post("/api/v1/sync", "", bearer("viewer-secret"));
    CHECK(sync->status == 403);
    CHECK(json::parse(sync->body)["error"]["code"] == "policy_denied");
    CHECK(f.denied() == std::vector<std::string>{
                            "403 POST /api/v1/sync from 127.0.0.1: token 'grafana' (role 'viewer') may not sync"});
    CHECK(f.engine.calls().empty());
}

TEST_CASE("a deployer may sync, with its token's name in the actor, but not reset") {
    ApiFixture f(strict());
    f.engine.sync_reply = tandem::Result<std::string>(std::string(R"({"outcome":"succeeded"})"));
    CHECK(f.post("/api/v1/sync", "", bearer("deployer-secret"))->status == 200);
    CHECK(f.engine.actors() == std::vector<std::string>{"http ci from 127.0.0.1"});
    CHECK(f.post("/api/v1/services/api/reset", "", bearer("deployer-secret"))->status == 403);
}

TEST_CASE("an admin's reset goes to the engine, which has the last word") {
    ApiFixture f(strict());
    CHECK(f.post("/api/v1/services/store/reset", "", bearer("admin-secret"))->status == 200);
    CHECK(f.engine.calls() == std::vector<std::string>{"reset store"});
    CHECK(f.engine.actors() == std::vector<std::string>{"http alice from 127.0.0.1"});
}

TEST_CASE("a project role grants its own actions") {
    HttpApiOptions options = strict();
    options.roles = {tandem::AccessRole{"ops", {"status", "trigger"}, {}}};
    options.tokens.push_back({"bob", "ops", "ops-secret", ""});
    ApiFixture f(options);
    CHECK(f.post("/api/v1/services/api/trigger", "", bearer("ops-secret"))->status == 200);
    CHECK(f.get("/api/v1/services/api/logs", bearer("ops-secret"))->status == 403);
}

TEST_CASE("an events stream may pass its token as ?access_token=, which a browser's EventSource must") {
    ApiFixture f(strict());
    RawConnection stream(f.port);
    REQUIRE(stream.send("GET /api/v1/events?access_token=viewer-secret HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    REQUIRE(stream.read_until("event: status"));
    CHECK(stream.received().rfind("HTTP/1.1 200", 0) == 0);
    CHECK(stream.received().find("\"role\":\"viewer\"") != std::string::npos);
    CHECK(f.get("/api/v1/events?access_token=wrong")->status == 401);
}

TEST_CASE("metrics, the webhook and the page need no token") {
    HttpApiOptions options = strict();
    options.webhook_secret = "hook";
    ApiFixture f(options);
    CHECK(f.get("/metrics")->status == 200);
    CHECK(f.get("/")->status == 200);
    const std::string body = R"({"zen":"hi"})";
    CHECK(f.post("/api/v1/webhook/git", body,
                 {{"X-GitHub-Event", "ping"}, {"X-Hub-Signature-256", tandem::hub_signature("hook", body)}})
              ->status == 200);
}

TEST_CASE("without security.strict every caller is an admin and a token is not looked at") {
    ApiFixture f;
    const json document = json::parse(f.get("/api/v1/status", bearer("anything"))->body);
    CHECK(document["you"] == json{{"token", ""}, {"role", "admin"}});
}

TEST_CASE("start refuses a role granting \"*\" under deny_wildcards, and a token naming an unknown role") {
    tandem::test::FakeControlHandler engine;
    HttpApiOptions options = strict();
    options.roles = {tandem::AccessRole{"ops", {"*"}, {}}};
    auto started = tandem::HttpApi::start(options, engine);
    CHECK(started);  // wildcards are fine unless the policy denies them
    started = tandem::Result<std::unique_ptr<tandem::HttpApi>>(std::unique_ptr<tandem::HttpApi>{});
    options.deny_wildcards = true;
    auto refused = tandem::HttpApi::start(options, engine);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::policy_denied);
    CHECK(refused.error().message.find("role 'ops'") != std::string::npos);

    HttpApiOptions unknown = strict();
    unknown.tokens.push_back({"eve", "superuser", "eve-secret", ""});
    auto bad_token = tandem::HttpApi::start(unknown, engine);
    REQUIRE_FALSE(bad_token);
    CHECK(bad_token.error().code == ErrorCode::unknown_reference);
    CHECK(bad_token.error().message.find("token 'eve'") != std::string::npos);
}

TEST_CASE("load_api_tokens reads NAME ROLE SECRET lines and names the line of a bad one") {
    tandem::test::TempDir dir;
    const auto file = dir.write("tokens", "# NAME ROLE SECRET\n\nci deployer 6f1c\n  alice   admin   9a2e  \n");
    auto tokens = tandem::load_api_tokens(file);
    REQUIRE(tokens);
    REQUIRE(tokens->size() == 2);
    CHECK((*tokens)[1].name == "alice");
    CHECK((*tokens)[1].role == "admin");
    CHECK((*tokens)[1].secret == "9a2e");

    dir.write("tokens", "ci deployer 6f1c\nalice admin\n");
    auto short_line = tandem::load_api_tokens(file);
    REQUIRE_FALSE(short_line);
    CHECK(short_line.error().to_string() == file.string() + ":2: expected three fields, NAME ROLE SECRET");

    dir.write("tokens", "ci deployer 6f1c\nci admin 9a2e\n");
    CHECK(tandem::load_api_tokens(file).error().to_string().find(":2: token name 'ci' is used twice") != std::string::npos);
    CHECK(tandem::load_api_tokens(dir.path() / "none").error().code == ErrorCode::io);
}

// The table of engine operations over the HTTP API: every row has its route and answers, a disk
// engine refuses a git source's rows without asking the engine, and the rows HTTP lacked before
// the table (down, diff) work, down for the roles that grant it only.
#include <doctest/doctest.h>

#include "http/api_fixture.hpp"
#include "support/temp_dir.hpp"

#include <tandem/control.hpp>
#include <tandem/operations.hpp>

#include <nlohmann/json.hpp>

using nlohmann::json;
using tandem::ControlRequest;
using tandem::EngineOperation;
using tandem::HttpApiOptions;
using tandem::test::ApiFixture;
using tandem::test::bearer;

namespace {

std::optional<tandem::test::HttpReply> call(ApiFixture& f, const EngineOperation& operation,
                                            const tandem::test::HttpHeaders& headers = {}) {
    const ControlRequest request = tandem::test::filled_request(operation);
    if (std::string_view(tandem::http_method(operation)) == "GET") return f.get(tandem::http_target(operation, request), headers);
    return f.post(tandem::http_target(operation, request), tandem::http_body(operation, request), headers);
}

}  // namespace

TEST_CASE("every operation of the table has its route and answers over HTTP") {
    ApiFixture f;
    f.engine.follow_git();
    for (const EngineOperation& operation : tandem::engine_operations()) {
        CAPTURE(operation.name);
        const auto reply = call(f, operation);
        REQUIRE(reply);
        CHECK_MESSAGE(reply->status == 200, reply->body);
        const json document = json::parse(reply->body, nullptr, false);
        CHECK((document.is_object() || document.is_array()));
        if (operation.reply == EngineOperation::Reply::lines) CHECK(document["lines"] == json{"line 1", "line 2", "line 3"});
    }
    const auto calls = f.engine.calls();
    for (const std::string call : {"down", "reset api", "trigger api", "restart api", "sync", "rollback 1a2b3c",
                                   "diff 1a2b3c", "audit 5", "logs api 5"})
        CHECK_MESSAGE(std::find(calls.begin(), calls.end(), call) != calls.end(), call);
}

TEST_CASE("a disk engine refuses every operation of a git source over HTTP with a 400 naming it") {
    ApiFixture f;
    for (const EngineOperation& operation : tandem::engine_operations()) {
        if (!operation.git_only) continue;
        CAPTURE(operation.name);
        const auto reply = call(f, operation);
        REQUIRE(reply);
        CHECK(reply->status == 400);
        const std::string message = json::parse(reply->body)["error"]["message"];
        CHECK(message.find("`" + std::string(operation.name) + "`") != std::string::npos);
        CHECK(message.find("files on disk") != std::string::npos);
    }
    CHECK(f.engine.calls().empty());
}

TEST_CASE("POST /api/v1/down stops the engine, for a role that grants down only") {
    HttpApiOptions options;
    options.require_token = true;
    options.tokens = tandem::test::role_tokens();
    ApiFixture f(options);
    const auto deployer = f.post("/api/v1/down", "", bearer("deployer-secret"));
    REQUIRE(deployer);
    CHECK(deployer->status == 403);
    CHECK(f.engine.calls().empty());
    const auto admin = f.post("/api/v1/down", "", bearer("admin-secret"));
    REQUIRE(admin);
    CHECK(admin->status == 200);
    CHECK(json::parse(admin->body) == json{{"ok", true}, {"action", "down"}, {"outcome", "succeeded"}});
    CHECK(f.engine.calls() == std::vector<std::string>{"down"});
    CHECK(f.get("/api/v1/down", bearer("admin-secret"))->status == 405);
}

TEST_CASE("GET /api/v1/diff answers the plan of a revision, which it needs") {
    ApiFixture f;
    f.engine.follow_git();
    const auto diff = f.get("/api/v1/diff?revision=feature%2Fx");
    REQUIRE(diff);
    CHECK(diff->status == 200);
    CHECK(json::parse(diff->body)["table"] == "nothing to do\n");
    CHECK(f.engine.calls() == std::vector<std::string>{"diff feature/x"});
    const auto missing = f.get("/api/v1/diff");
    CHECK(missing->status == 400);
    CHECK(json::parse(missing->body)["error"]["message"] == "diff needs a \"revision\"");
}

TEST_CASE("docs/http-api.md's endpoint table lists every operation with its method, path and grant") {
    const std::string docs = tandem::test::read_text(std::filesystem::path(TANDEM_SOURCE_DIR) / "docs/http-api.md");
    for (const EngineOperation& operation : tandem::engine_operations()) {
        std::string path = tandem::http_pattern(operation);
        if (const auto star = path.find('*'); star != std::string::npos) path.replace(star, 1, "NAME");
        const std::string row = "| `" + std::string(tandem::http_method(operation)) + " " + path;
        const std::string columns = "| `" + std::string(operation.name) + "` | `" + std::string(operation.grant) + "` |";
        CHECK_MESSAGE(docs.find(row) != std::string::npos, row);
        CHECK_MESSAGE(docs.find(columns) != std::string::npos, columns);
    }
}

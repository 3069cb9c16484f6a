// The table of engine operations over the control socket: every row answers through a real
// server and client, a disk engine refuses a git source's rows without asking the engine, and
// the rows the socket lacked before the table (restart, history, audit) work.
#include <doctest/doctest.h>

#include "api/fake_control_handler.hpp"
#include "support/temp_dir.hpp"

#include <tandem/control.hpp>
#include <tandem/operations.hpp>

#include <nlohmann/json.hpp>

#include <set>

namespace fs = std::filesystem;
using nlohmann::json;
using tandem::ControlClient;
using tandem::ControlRequest;
using tandem::ControlServer;
using tandem::EngineOperation;
using tandem::ErrorCode;
using tandem::test::FakeControlHandler;
using tandem::test::filled_request;
using tandem::test::TempDir;

namespace {

struct SocketEngine {
    TempDir dir;
    fs::path socket = dir.path() / "control.sock";
    FakeControlHandler handler;
    std::unique_ptr<ControlServer> server;

    explicit SocketEngine(bool git) {
        tandem::ServiceStatus api;
        api.name = "api";
        handler.services = {api};
        handler.log_lines["api"] = {"one", "two"};
        if (git) handler.follow_git();
        auto started = ControlServer::start(socket, handler);
        REQUIRE_MESSAGE(started.ok(), (started.ok() ? "" : started.error().message));
        server = std::move(*started);
    }

    tandem::Result<std::vector<std::string>> call(const ControlRequest& request) {
        auto client = ControlClient::connect(socket);
        if (!client) return client.error();
        std::vector<std::string> lines;
        auto status = client->call(request, [&lines](const std::string& line) { lines.push_back(line); });
        if (!status) return status.error();
        return lines;
    }
};

}  // namespace

TEST_CASE("every operation of the table answers over the control socket") {
    SocketEngine engine(true);
    std::set<std::string> names;
    for (const EngineOperation& operation : tandem::engine_operations()) {
        CAPTURE(operation.name);
        CHECK(names.insert(std::string(operation.name)).second);  // one row per name
        REQUIRE((operation.run != nullptr));
        const auto lines = engine.call(filled_request(operation));
        REQUIRE_MESSAGE(lines.ok(), (lines.ok() ? "" : lines.error().to_string()));
        if (operation.reply == EngineOperation::Reply::lines) {
            CHECK(*lines == std::vector<std::string>{R"({"line":"one"})", R"({"line":"two"})"});
            continue;
        }
        REQUIRE(lines->size() == 1);
        const json document = json::parse(lines->front(), nullptr, false);
        CHECK((document.is_object() || document.is_array()));  // audit: an array of records
    }
    // Every action reached the engine with what it was given.
    const auto calls = engine.handler.calls();
    for (const std::string call : {"down", "reset api", "trigger api", "restart api", "sync", "rollback 1a2b3c",
                                   "diff 1a2b3c", "audit 5", "logs api 5"})
        CHECK_MESSAGE(std::find(calls.begin(), calls.end(), call) != calls.end(), call);
}

TEST_CASE("a disk engine refuses every operation of a git source, naming it and the source, without asking the engine") {
    SocketEngine engine(false);
    int refused = 0;
    for (const EngineOperation& operation : tandem::engine_operations()) {
        if (!operation.git_only) continue;
        CAPTURE(operation.name);
        const auto reply = engine.call(filled_request(operation));
        REQUIRE_FALSE(reply.ok());
        CHECK(reply.error().code == ErrorCode::usage);
        CHECK(reply.error().message.find("`" + std::string(operation.name) + "`") != std::string::npos);
        CHECK(reply.error().message.find("files on disk") != std::string::npos);
        ++refused;
    }
    CHECK(refused == 6);  // sync, history, diff, rollback, audit, previews
    CHECK(engine.handler.calls().empty());
}

TEST_CASE("restart, history and audit, which the socket lacked, answer over it") {
    SocketEngine engine(true);
    ControlRequest restart;
    restart.command = "restart";
    restart.service = "api";
    const auto restarted = engine.call(restart);
    REQUIRE(restarted.ok());
    CHECK(json::parse(restarted->front()) ==
          json{{"ok", true}, {"action", "restart"}, {"service", "api"}, {"outcome", "succeeded"}});
    CHECK(engine.handler.calls() == std::vector<std::string>{"restart api"});
    CHECK(engine.handler.actors().front().rfind("user ", 0) == 0);  // the peer's credentials

    ControlRequest history;
    history.command = "history";
    const auto kept = engine.call(history);
    REQUIRE(kept.ok());
    CHECK(json::parse(kept->front()) == json{{"deployed", "1a2b3c"}, {"releases", json::array()}});

    ControlRequest audit;
    audit.command = "audit";
    audit.tail = 7;
    const auto records = engine.call(audit);
    REQUIRE(records.ok());
    CHECK(json::parse(records->front())[0]["event"] == "deploy");
    CHECK(engine.handler.calls().back() == "audit 7");

    audit.tail = tandem::kMaxTail + 1;
    const auto too_many = engine.call(audit);
    REQUIRE_FALSE(too_many.ok());
    CHECK(too_many.error().code == ErrorCode::invalid_value);
}

TEST_CASE("status over the socket carries a git engine's release and deployed revision") {
    SocketEngine engine(true);
    ControlRequest status;
    status.command = "status";
    const auto reply = engine.call(status);
    REQUIRE(reply.ok());
    const json document = json::parse(reply->front());
    CHECK(document["revision"] == "1a2b3c");
    CHECK(document["release"]["deployed"] == "1a2b3c");
    CHECK(tandem::status_from_json(reply->front()).ok());
}

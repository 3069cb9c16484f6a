// The HTTP API over real sockets: the status document, logs, actions, errors, the web page.
#include <doctest/doctest.h>

#include "http/api_fixture.hpp"

#include <nlohmann/json.hpp>

#include <thread>

using nlohmann::json;
using tandem::ErrorCode;
using tandem::HttpApiOptions;
using tandem::test::ApiFixture;
using tandem::test::RawConnection;

TEST_CASE("GET /api/v1/status answers the documented document: tool, policy, services, actions and you") {
    ApiFixture f;
    f.engine.refused = {{"reset", "policy 'x' denies database.reset"}};
    const auto reply = f.get("/api/v1/status");
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK(reply->header("Content-Type") == "application/json");
    const json status = json::parse(reply->body);
    CHECK(status["tool"] == "devloop");
    CHECK(status["policy"] == "wip");
    CHECK(status["revision"] == "");
    CHECK(status["release"].is_null());
    REQUIRE(status["services"].size() == 2);
    const json& api = status["services"][0];
    CHECK(api["name"] == "api");
    CHECK(api["state"] == "ready");
    CHECK(api["port"] == 7400);
    CHECK(api["ready"] == 1);
    CHECK(api["replicas"][0]["handle"] == "pid 4242");
    CHECK(api["replicas"][0]["health"] == "healthy");
    CHECK(api["errors"]["crashes"] == 2);
    CHECK(api["proxy_connections"] == 12);
    CHECK(status["actions"]["trigger"] == json{{"allowed", true}});
    CHECK(status["actions"]["reset"] == json{{"allowed", false}, {"reason", "policy 'x' denies database.reset"}});
    CHECK(status["you"] == json{{"token", ""}, {"role", "admin"}});
}

TEST_CASE("each service in the status has its own actions: Reset refused without a reset command, with the reason") {
    ApiFixture f;
    const std::string why = "api has no reset command and no state: (add `reset:` to it in tandem.yaml)";
    f.engine.service_refused = {{"api", {{"reset", why}}}};
    json status = json::parse(f.get("/api/v1/status")->body);
    const json& api = status["services"][0];
    const json& other = status["services"][1];
    CHECK(api["actions"]["reset"] == json{{"allowed", false}, {"reason", why}});
    CHECK(api["actions"]["trigger"] == json{{"allowed", true}});
    CHECK(api["actions"]["restart"] == json{{"allowed", true}});
    CHECK(other["actions"]["reset"] == json{{"allowed", true}});
    CHECK(status["actions"]["reset"] == json{{"allowed", true}});  // the engine-wide verdict is unchanged

    f.engine.refused = {{"reset", "policy 'x' denies database.reset"}};  // the policy's reason comes first
    status = json::parse(f.get("/api/v1/status")->body);
    CHECK(status["services"][0]["actions"]["reset"]["reason"] == "policy 'x' denies database.reset");
    CHECK(status["services"][1]["actions"]["reset"]["reason"] == "policy 'x' denies database.reset");
}

TEST_CASE("under a release engine the status carries its release and the deployed revision") {
    ApiFixture f;
    f.engine.release_json = R"({"deployed":"1a2b3c","head":"1a2b3c","history":{"releases":[]}})";
    const json status = json::parse(f.get("/api/v1/status")->body);
    CHECK(status["revision"] == "1a2b3c");
    CHECK(status["release"]["head"] == "1a2b3c");
}

TEST_CASE("GET logs answers the last lines, an unknown service is a 404 and a bad tail a 400") {
    ApiFixture f;
    const auto reply = f.get("/api/v1/services/api/logs?tail=2");
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK(json::parse(reply->body) == json{{"service", "api"}, {"lines", {"line 2", "line 3"}}});
    CHECK(f.engine.calls().back() == "logs api 2");
    CHECK(json::parse(f.get("/api/v1/services/api/logs")->body)["lines"].size() == 3);  // default tail: 100

    const auto unknown = f.get("/api/v1/services/nope/logs");
    CHECK(unknown->status == 404);
    const json error = json::parse(unknown->body)["error"];
    CHECK(error["code"] == "unknown_service");
    CHECK(error["message"].get<std::string>().find("no service 'nope'") != std::string::npos);

    CHECK(f.get("/api/v1/services/api/logs?tail=-1")->status == 400);
    CHECK(f.get("/api/v1/services/api/logs?tail=100001")->status == 400);
    CHECK(f.get("/api/v1/services/api/logs?tail=lots")->status == 400);
}

TEST_CASE("POST actions call the engine with the caller as actor, and a policy refusal is a 403") {
    ApiFixture f;
    for (const std::string action : {"trigger", "restart", "reset"}) {
        const auto reply = f.post("/api/v1/services/api/" + action);
        REQUIRE(reply);
        CHECK(reply->status == 200);
        CHECK(json::parse(reply->body)["ok"] == true);
    }
    CHECK(f.engine.calls() == std::vector<std::string>{"trigger api", "restart api", "reset api"});
    CHECK(f.engine.actors().front() == "http anonymous from 127.0.0.1");

    f.engine.action_result = tandem::make_error(ErrorCode::policy_denied, "policy 'x' denies database.reset");
    const auto refused = f.post("/api/v1/services/store/reset");
    CHECK(refused->status == 403);
    CHECK(json::parse(refused->body)["error"]["code"] == "policy_denied");
    CHECK(f.post("/api/v1/services/nope/trigger")->status == 404);
}

TEST_CASE("sync and rollback answer the engine's outcome, and a rollback names its revision in an optional body") {
    ApiFixture f;
    f.engine.sync_reply = tandem::Result<std::string>(std::string(R"({"event":"deploy","outcome":"succeeded"})"));
    const auto sync = f.post("/api/v1/sync");
    REQUIRE(sync);
    CHECK(sync->status == 200);
    CHECK(json::parse(sync->body)["outcome"] == "succeeded");
    CHECK(f.post("/api/v1/rollback", R"({"revision": "1a2b3c"})")->status == 200);
    CHECK(f.post("/api/v1/rollback")->status == 200);
    CHECK(f.engine.calls() == std::vector<std::string>{"sync", "rollback 1a2b3c", "rollback "});
}

TEST_CASE("a disk engine's answer to sync is an error document with a status that says so") {
    ApiFixture f;
    const auto sync = f.post("/api/v1/sync");
    REQUIRE(sync);
    CHECK(sync->status == 400);
    CHECK(json::parse(sync->body)["error"]["message"].get<std::string>().find("files on disk") != std::string::npos);
}

TEST_CASE("a malformed JSON body is a 400 that gives the parser's reason") {
    ApiFixture f;
    const auto reply = f.post("/api/v1/rollback", R"({"revision": )");
    REQUIRE(reply);
    CHECK(reply->status == 400);
    const std::string message = json::parse(reply->body)["error"]["message"];
    CHECK(message.find("malformed JSON body") != std::string::npos);
    CHECK(message.find("parse error") != std::string::npos);
    CHECK(f.post("/api/v1/rollback", R"({"revision": 7})")->status == 400);
    CHECK(f.engine.calls().empty());
}

TEST_CASE("a body over the limit is a 413 and the engine is not asked") {
    HttpApiOptions options;
    options.max_body_bytes = 1024;
    ApiFixture f(options);
    f.engine.sync_reply = tandem::Result<std::string>(std::string(R"({"outcome":"succeeded"})"));
    const auto reply = f.post("/api/v1/rollback", std::string(4096, ' '));
    REQUIRE(reply);
    CHECK(reply->status == 413);
    CHECK(json::parse(reply->body)["error"]["code"] == "too_large");
    CHECK(f.post("/api/v1/rollback", std::string(1024, ' '))->status == 200);
    CHECK(f.engine.calls() == std::vector<std::string>{"rollback "});
}

TEST_CASE("an unknown path is a 404 and a known path with the wrong method a 405") {
    ApiFixture f;
    const auto missing = f.get("/api/v1/nothing");
    CHECK(missing->status == 404);
    CHECK(json::parse(missing->body)["error"]["code"] == "not_found");
    const auto wrong = f.get("/api/v1/sync");
    CHECK(wrong->status == 405);
    CHECK(wrong->header("Allow") == "POST");
    CHECK(f.post("/api/v1/status")->status == 405);
}

TEST_CASE("the web page is served from the library, typed by extension and revalidated") {
    ApiFixture f;
    const auto page = f.get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->header("Content-Type") == "text/html; charset=utf-8");
    CHECK(page->header("Cache-Control") == "no-cache");
    CHECK(page->body.find("<html") != std::string::npos);
    CHECK(f.get("/index.html")->body == page->body);
    // Its own files and nothing else: no inline script, no other origin, no framing, no sniffing.
    CHECK(page->header("Content-Security-Policy") ==
          "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; "
          "frame-ancestors 'none'");
    CHECK(page->header("X-Content-Type-Options") == "nosniff");
    CHECK(f.get("/api/v1/status")->header("Content-Security-Policy").empty());
    // The page is JavaScript modules, each fetched by its name: a module needs a JavaScript type.
    CHECK(page->body.find(R"(<script type="module" src="app.js">)") != std::string::npos);
    for (const char* module : {"/app.js", "/html.js", "/api.js", "/logs.js"}) {
        const auto js = f.get(module);
        CHECK_MESSAGE(js->status == 200, module);
        CHECK_MESSAGE(js->header("Content-Type") == "text/javascript; charset=utf-8", module);
    }
    CHECK(f.get("/no-such-file.js")->status == 404);
    CHECK(f.get("/../CMakeLists.txt")->status == 404);
}

TEST_CASE("one connection carries several requests (keep-alive)") {
    ApiFixture f;
    RawConnection connection(f.port);
    const std::string request = "GET /api/v1/services/api/logs?tail=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    REQUIRE(connection.send(request));
    REQUIRE(connection.read_until("\"service\":\"api\"}"));
    REQUIRE(connection.send(request));
    CHECK(connection.read_until("\"service\":\"api\"}HTTP/1.1 200"));
}

TEST_CASE("history and audit answer the release engine's documents") {
    ApiFixture f;
    CHECK(f.get("/api/v1/history")->status == 400);  // a disk engine keeps none
    f.engine.release_json = R"({"deployed":"1a2b3c","history":{"deployed":"1a2b3c","releases":[]}})";
    const auto history = f.get("/api/v1/history");
    CHECK(history->status == 200);
    CHECK(json::parse(history->body) == json{{"deployed", "1a2b3c"}, {"releases", json::array()}});
    const auto audit = f.get("/api/v1/audit?tail=5");
    CHECK(audit->status == 200);
    CHECK(json::parse(audit->body)[0]["event"] == "deploy");
    CHECK(f.engine.calls().back() == "audit 5");
}

TEST_CASE("a sync that blocks in the engine holds up no other request") {
    ApiFixture f;
    std::mutex gate;
    std::unique_lock hold(gate);
    f.engine.during_sync = [&gate] { std::lock_guard wait(gate); };
    f.engine.sync_reply = tandem::Result<std::string>(std::string(R"({"outcome":"succeeded"})"));
    std::optional<tandem::test::HttpReply> sync;
    std::thread syncing([&] { sync = f.post("/api/v1/sync"); });
    REQUIRE(f.engine.wait_for_call("sync"));
    CHECK(f.get("/api/v1/status")->status == 200);
    hold.unlock();
    syncing.join();
    REQUIRE(sync);
    CHECK(sync->status == 200);
}

TEST_CASE("a client that expects 100-continue is told to go on, and one over the limit is refused at once") {
    ApiFixture f;
    f.engine.sync_reply = tandem::Result<std::string>(std::string(R"({"outcome":"succeeded"})"));
    RawConnection small(f.port);
    const std::string body = R"({"revision": "1a2b3c"})";
    REQUIRE(small.send("POST /api/v1/rollback HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n"));
    REQUIRE(small.read_until("HTTP/1.1 100 Continue\r\n\r\n"));
    REQUIRE(small.send(body));
    CHECK(small.read_until(R"({"outcome":"succeeded"})"));

    RawConnection large(f.port);
    REQUIRE(large.send("POST /api/v1/rollback HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
                       "Content-Length: 1000000\r\n\r\n"));
    REQUIRE(large.read_until("\r\n\r\n"));
    CHECK(large.received().rfind("HTTP/1.1 413", 0) == 0);
    CHECK(f.engine.calls() == std::vector<std::string>{"rollback 1a2b3c"});
}

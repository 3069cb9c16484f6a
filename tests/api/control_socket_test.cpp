// The control socket end to end: a real server and client on a Unix socket in a temp dir,
// with a fake engine behind it.
#include <doctest/doctest.h>

#include "api/fake_control_handler.hpp"
#include "api/socket_io.hpp"
#include "support/temp_dir.hpp"

#include <tandem/control.hpp>

#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using tandem::ControlClient;
using tandem::ControlRequest;
using tandem::ControlServer;
using tandem::ErrorCode;
using tandem::test::FakeControlHandler;
using tandem::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ControlRequest request(std::string command, std::string service = {}) {
    ControlRequest r;
    r.command = std::move(command);
    r.service = std::move(service);
    return r;
}

tandem::ServiceStatus service(const std::string& name) {
    tandem::ServiceStatus s;
    s.name = name;
    return s;
}

// One call through a fresh client; the reply lines, or the error.
tandem::Result<std::vector<std::string>> call(const fs::path& socket, const ControlRequest& r) {
    auto client = ControlClient::connect(socket);
    if (!client) return client.error();
    std::vector<std::string> lines;
    auto status = client->call(r, [&lines](const std::string& line) { lines.push_back(line); });
    if (!status) return status.error();
    return lines;
}

// Sends raw bytes as a client and returns every reply line (the server closes when done).
std::vector<std::string> raw_exchange(const fs::path& socket, const std::string& bytes) {
    const int fd = tandem::control::connect_unix(socket);
    REQUIRE(fd >= 0);
    CHECK(tandem::control::send_all(fd, bytes));
    std::vector<std::string> lines;
    tandem::control::LineReader reader(fd);
    while (auto line = reader.next()) lines.push_back(*line);
    ::close(fd);
    return lines;
}

std::string error_code_of(const std::string& line) {
    const auto j = nlohmann::json::parse(line);
    return j.at("error").at("code").get<std::string>();
}

struct ServerFixture {
    TempDir dir;
    fs::path socket = dir.path() / ".tandem" / "control.sock";
    FakeControlHandler handler;
    std::unique_ptr<ControlServer> server;

    ServerFixture() {
        handler.services = {service("store"), service("api")};
        auto started = ControlServer::start(socket, handler);
        REQUIRE_MESSAGE(started.ok(), (started.ok() ? "" : started.error().message));
        server = std::move(*started);
    }
};

}  // namespace

TEST_CASE("status goes through the socket and reads back as the engine reported it") {
    ServerFixture f;
    auto& api = f.handler.services[1];
    api.state = tandem::ServiceState::crashed;
    api.port = 8080;
    api.restarts = 2;
    api.last_error = "replica 3 exited with status 1";
    api.crash_lines = {"boom", "stack"};
    api.proxy_connections = 41;
    const auto started = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
    api.replicas = {tandem::ReplicaStatus{3, "pid 4242", 40001, tandem::Health::healthy, true, started},
                    tandem::ReplicaStatus{4, "pid 4243", 40002, tandem::Health::unknown, false, started}};

    auto lines = call(f.socket, request("status"));
    REQUIRE(lines.ok());
    REQUIRE(lines->size() == 1);
    auto reply = tandem::status_from_json(lines->front());
    REQUIRE(reply.ok());
    CHECK(reply->policy == "wip");
    REQUIRE(reply->services.size() == 2);
    CHECK(reply->services[0].name == "store");
    const auto& got = reply->services[1];
    CHECK(got.name == "api");
    CHECK(got.state == tandem::ServiceState::crashed);
    CHECK(got.port == 8080);
    CHECK(got.restarts == 2);
    CHECK(got.last_error == "replica 3 exited with status 1");
    CHECK(got.crash_lines == std::vector<std::string>{"boom", "stack"});
    CHECK(got.proxy_connections == 41);
    REQUIRE(got.replicas.size() == 2);
    CHECK(got.replicas[0].handle == "pid 4242");
    CHECK(got.replicas[0].routed);
    CHECK(got.replicas[1].health == tandem::Health::unknown);
    CHECK(got.replicas[0].started == started);
    CHECK(nlohmann::json::parse(lines->front())["services"][1]["ready"] == 1);
}

TEST_CASE("logs replies with the last N lines of the service, one JSON line each") {
    ServerFixture f;
    f.handler.log_lines["api"] = {"one", "two", "three", "four"};
    auto r = request("logs", "api");
    r.tail = 2;
    auto lines = call(f.socket, r);
    REQUIRE(lines.ok());
    REQUIRE(lines->size() == 2);
    CHECK(nlohmann::json::parse((*lines)[0])["line"] == "three");
    CHECK(nlohmann::json::parse((*lines)[1])["line"] == "four");
    CHECK(f.handler.calls() == std::vector<std::string>{"logs api 2"});

    auto unknown = call(f.socket, request("logs", "nope"));
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().code == ErrorCode::unknown_service);
    CHECK(contains(unknown.error().message, "no service 'nope'"));
    CHECK(contains(unknown.error().message, "store, api"));
}

TEST_CASE("logs --follow streams lines pushed after the request and stops when the client goes") {
    ServerFixture f;
    f.handler.log_lines["api"] = {"old"};
    const int fd = tandem::control::connect_unix(f.socket);
    REQUIRE(fd >= 0);
    REQUIRE(tandem::control::send_all(fd, R"({"command":"logs","service":"api","tail":5,"follow":true})" "\n"));
    tandem::control::LineReader reader(fd);
    auto first = reader.next();
    REQUIRE(first);
    CHECK(nlohmann::json::parse(*first)["line"] == "old");
    REQUIRE(f.handler.wait_for_followers(1));
    f.handler.push_line("new 1");
    f.handler.push_line("new 2");
    auto second = reader.next();
    auto third = reader.next();
    REQUIRE(second);
    REQUIRE(third);
    CHECK(nlohmann::json::parse(*second)["line"] == "new 1");
    CHECK(nlohmann::json::parse(*third)["line"] == "new 2");
    ::close(fd);
    CHECK(f.handler.wait_for_unfollow(1));
    CHECK(f.handler.wait_for_followers(0));
}

TEST_CASE("a following client's call returns when the server stops") {
    auto f = std::make_unique<ServerFixture>();
    auto client = ControlClient::connect(f->socket);
    REQUIRE(client.ok());
    std::vector<std::string> lines;
    auto r = request("logs", "api");
    r.follow = true;
    std::optional<tandem::Status> result;
    std::thread follower([&] { result = client->call(r, [&](const std::string& l) { lines.push_back(l); }); });
    REQUIRE(f->handler.wait_for_followers(1));
    f->handler.push_line("last words");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const fs::path socket = f->socket;
    f->server.reset();
    follower.join();
    REQUIRE(result);
    CHECK(result->ok());
    CHECK(lines == std::vector<std::string>{R"({"line":"last words"})"});
    CHECK_FALSE(fs::exists(socket));
}

TEST_CASE("down, reset and trigger reply ok, or the engine's error with its code and message") {
    ServerFixture f;
    CHECK(call(f.socket, request("down")).ok());
    CHECK(call(f.socket, request("reset", "store")).ok());
    CHECK(call(f.socket, request("trigger", "api")).ok());
    CHECK(f.handler.calls() == std::vector<std::string>{"down", "reset store", "trigger api"});

    f.handler.action_result = tandem::make_error(ErrorCode::policy_denied, "database.reset is 'deny': nothing touched");
    auto refused = call(f.socket, request("reset", "store"));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::policy_denied);
    CHECK(refused.error().message == "database.reset is 'deny': nothing touched");

    auto unknown = call(f.socket, request("trigger", "ghost"));
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().code == ErrorCode::unknown_service);
    auto missing = call(f.socket, request("reset"));
    REQUIRE_FALSE(missing.ok());
    CHECK(contains(missing.error().message, "reset needs a \"service\""));
}

TEST_CASE("malformed, unknown and oversized requests get an error line that names the problem") {
    ServerFixture f;
    auto garbage = raw_exchange(f.socket, "this is not json\n");
    REQUIRE(garbage.size() == 1);
    CHECK(error_code_of(garbage[0]) == "usage");
    CHECK(contains(garbage[0], "malformed request"));

    auto no_command = raw_exchange(f.socket, "{\"service\":\"api\"}\n");
    REQUIRE(no_command.size() == 1);
    CHECK(contains(no_command[0], "\\\"command\\\""));

    auto unknown = call(f.socket, request("dance"));
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().code == ErrorCode::usage);
    CHECK(contains(unknown.error().message, "unknown command 'dance'"));

    auto huge = raw_exchange(f.socket, std::string(70 * 1024, 'x'));
    REQUIRE(huge.size() == 1);
    CHECK(contains(huge[0], "longer than 65536 bytes"));
    CHECK(f.handler.calls().empty());
}

TEST_CASE("the socket is private to its user and removed when the server stops") {
    auto f = std::make_unique<ServerFixture>();
    struct stat info {};
    REQUIRE(::stat(f->socket.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    const fs::path socket = f->socket;
    f->server.reset();
    CHECK_FALSE(fs::exists(socket));
}

TEST_CASE("a second engine on a live socket is refused - a stale socket file is replaced") {
    ServerFixture f;
    FakeControlHandler other;
    auto second = ControlServer::start(f.socket, other);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message == "an engine is already running for this project (socket " + f.socket.string() + ")");
    CHECK(call(f.socket, request("status")).ok());  // the first one still serves

    // A socket file whose engine died: bound, then closed without unlinking.
    TempDir dir;
    const fs::path stale = dir.path() / "control.sock";
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", stale.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    ::close(fd);
    REQUIRE(fs::exists(stale));
    auto dead = ControlClient::connect(stale);
    REQUIRE_FALSE(dead.ok());
    CHECK(contains(dead.error().message, "no engine is running"));

    auto replaced = ControlServer::start(stale, other);
    REQUIRE(replaced.ok());
    CHECK(call(stale, request("status")).ok());
}

TEST_CASE("a client with no engine behind the socket is told to start one") {
    TempDir dir;
    const fs::path socket = dir.path() / ".tandem" / "control.sock";
    auto client = ControlClient::connect(socket);
    REQUIRE_FALSE(client.ok());
    CHECK(client.error().message == "no engine is running for this project (no socket at " + socket.string() +
                                        "): start one with `devloop up` or `shipper run`");
}

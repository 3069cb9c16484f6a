// A shipper engine under hostile HTTP clients (issue 13, defects 5 and 7): a flood of idle
// connections under a low descriptor limit neither silences the API for other peers nor
// stops a commit from deploying, and a flood of unauthenticated requests grows the audit log
// by two records, not one per request.
#include "release/release_fixture.hpp"

#include <fstream>
#include <memory>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

// The API's port and the engine's local token, from STATE/api.json once the engine wrote it.
std::pair<int, std::string> api_address(const fs::path& state) {
    nlohmann::json recorded;
    REQUIRE(eventually([&] {
        std::ifstream in(state / "api.json");
        recorded = nlohmann::json::parse(in, nullptr, false);
        return !recorded.is_discarded() && recorded.contains("port");
    }, 30000ms));
    return {recorded["port"].get<int>(), recorded["token"].get<std::string>()};
}

std::optional<HttpReply> status_from(int port, const std::string& from, const std::string& token) {
    RawConnection connection(port, from);
    if (!connection.send("GET /api/v1/status HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n") ||
        !connection.closed_by_server(5000ms))
        return std::nullopt;
    return parse_http_reply(connection.received());
}

}  // namespace

TEST_CASE("300 idle connections to an engine limited to 256 descriptors: other peers are served and a push deploys") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    const fs::path log = state.path() / "shipper.log";
    // Soft and hard limit 256 (the engine raises the soft one to the hard one); the flood's
    // connections get no header timeout to end them, so only the caps stand in their way.
    BackgroundProgram engine(state.path(),
                             {"/usr/bin/prlimit", "--nofile=256:256", TANDEM_SHIPPER, "run", "--repo",
                              upstream.path().string(), "--state-dir", state.path().string(), "--poll", "100ms",
                              "--bootstrap", "--http-port", "0", "--http-header-timeout", "600s"},
                             log);
    REQUIRE_MESSAGE(eventually([&] { return served_version(port) == "v1"; }, 30000ms), read_text(log));
    const auto [api_port, token] = api_address(state.path());

    std::vector<std::unique_ptr<RawConnection>> flood;
    for (int i = 0; i < 300; ++i) flood.push_back(std::make_unique<RawConnection>(api_port, "127.0.0.1"));

    const bool answered = eventually([&] {
        const auto reply = status_from(api_port, "127.0.0.2", token);
        return reply && reply->status == 200;
    }, 10000ms);
    CHECK_MESSAGE(answered, read_text(log));
    upstream.commit({{"version.txt", "v2\n"}}, "second");
    CHECK_MESSAGE(eventually([&] { return served_version(port) == "v2"; }, 60000ms), read_text(log));
    CHECK(read_text(log).find("Too many open files") == std::string::npos);
    flood.clear();
    engine.stop();
}

TEST_CASE("2000 requests without a token grow the audit log by two records: the first refusal and the count") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    const fs::path log = state.path() / "shipper.log";
    BackgroundProgram engine(state.path(),
                             {TANDEM_SHIPPER, "run", "--repo", upstream.path().string(), "--state-dir",
                              state.path().string(), "--poll", "100ms", "--bootstrap", "--http-port", "0"},
                             log);
    REQUIRE_MESSAGE(eventually([&] { return served_version(port) == "v1"; }, 30000ms), read_text(log));
    const int api_port = api_address(state.path()).first;
    REQUIRE(eventually([&] {  // the first deploy's record is written once its rollout is done
        auto records = AuditLog::read(state.path() / "audit.jsonl");
        return records.ok() && !records->empty();
    }, 30000ms));
    const auto size_before = fs::file_size(state.path() / "audit.jsonl");
    const auto records_before = audit_records(state.path()).size();

    const std::string long_path = "/api/v1/services/" + std::string(10000, 'x') + "/logs";  // 10 KB each
    int refused = 0;
    for (int i = 0; i < 2000; ++i) {
        const auto reply = http_request(api_port, "GET", i % 2 ? long_path : "/api/v1/status");
        refused += reply && reply->status == 401;
    }
    REQUIRE(refused == 2000);
    engine.stop();  // the count is recorded when its minute ends or the engine stops

    const auto records = audit_records(state.path());
    std::vector<AuditRecord> auth;
    for (std::size_t i = records_before; i < records.size(); ++i)
        if (records[i].entry.event == ChangeEvent::auth) auth.push_back(records[i]);
    REQUIRE(auth.size() == 2);
    CHECK(auth[0].entry.message == "401 GET /api/v1/status from 127.0.0.1: no token");
    CHECK_MESSAGE(auth[1].entry.message.rfind("1999 more refusals from 127.0.0.1 in the last 60s", 0) == 0,
                  auth[1].entry.message);
    const auto grown = fs::file_size(state.path() / "audit.jsonl") - size_before;
    CHECK_MESSAGE(grown < 8 * 1024, grown);  // before: about 10 KB per refusal, 20 MB in all
    CHECK(AuditLog::verify(state.path() / "audit.jsonl").ok);
}

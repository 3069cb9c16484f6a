// Deploy previews through the real shipper: `shipper run --previews`, `shipper previews`, the
// status document, the routing port, a preview's own control socket and the push webhook.
#include "preview/preview_helpers.hpp"

#include <tandem/http_api.hpp>

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem::test;

namespace {

// The preview named `name` in `shipper previews -o json`, or an empty object.
nlohmann::json preview_of(const fs::path& state, const std::string& name) {
    const auto result = shipper(state, {"previews", "-o", "json"});
    const auto list = nlohmann::json::parse(result.out, nullptr, false);
    if (result.exit_code != 0 || !list.is_array()) return nlohmann::json::object();
    for (const auto& p : list)
        if (p.value("name", "") == name) return p;
    return nlohmann::json::object();
}

// The pids of the replicas that `shipper status` at `state_dir` (a preview's) lists.
std::vector<pid_t> replica_pids(const fs::path& state_dir) {
    std::vector<pid_t> pids;
    const auto status = nlohmann::json::parse(shipper(state_dir, {"status", "-o", "json"}).out, nullptr, false);
    if (!status.is_object()) return pids;
    for (const auto& s : status["services"])
        for (const auto& r : s["replicas"])
            if (r.value("handle", "").rfind("pid ", 0) == 0) pids.push_back(std::stoi(r.value("handle", "").substr(4)));
    return pids;
}

}  // namespace

TEST_CASE("shipper run --previews serves a branch beside main, and shipper previews lists it") {
    const int router = free_port();
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const std::string first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    make_branch(upstream, "feature/x", "x-1");
    BackgroundProgram engine(state.path(),
                             {TANDEM_SHIPPER, "run", "--repo", upstream.path().string(), "--state-dir",
                              state.path().string(), "--poll", "100ms", "--bootstrap", "--http-port", "off",
                              "--previews", "feature/*", "--preview-port", std::to_string(router)},
                             state.path() / "shipper.log");
    const fs::path log = state.path() / "shipper.log";
    REQUIRE_MESSAGE(eventually([&] { return preview_of(state.path(), "feature-x").value("state", "") == "running"; },
                               60000ms),
                    read_text(log));
    CHECK(served_version(port) == "v1");  // main, on its own port
    CHECK(version_by_host(router, "feature-x.localhost") == "x-1");
    const auto preview = preview_of(state.path(), "feature-x");
    CHECK(preview.value("url", "") == "http://feature-x.localhost:" + std::to_string(router) + "/");
    CHECK(preview.value("policy", "") == "wip");
    CHECK(shipper_status(state.path()).value("previews", nlohmann::json::array()).size() == 1);

    const auto table = shipper(state.path(), {"previews"});
    CHECK(table.exit_code == 0);
    CHECK(table.out.find("PREVIEW") == 0);
    CHECK(table.out.find("feature-x") != std::string::npos);
    CHECK(table.out.find("running") != std::string::npos);

    // The preview's own control socket answers for its services, as main's does for main's.
    const fs::path preview_state = state.path() / "previews" / "feature-x";
    const auto status = shipper(preview_state, {"status", "-o", "json"});
    REQUIRE_MESSAGE(status.exit_code == 0, status.err);
    CHECK(status.out.find("\"web\"") != std::string::npos);
    // The preview's events are in shipper's output, named after it.
    CHECK(read_text(log).find("feature-x/web") != std::string::npos);

    // The main branch's audit log has none of the preview's changes; the fleet's has them.
    for (const auto& record : audit_records(state.path())) CHECK(record.entry.commit == first);
    CHECK(audit_records(state.path() / "previews").size() >= 1);
}

TEST_CASE("a signed push webhook deploys a new branch's preview without a poll") {
    Upstream upstream;
    TempDir state;
    const int port = free_port(), http = free_port();
    upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    state.write("webhook.secret", "s3cret\n");
    BackgroundProgram engine(state.path(),
                             {TANDEM_SHIPPER, "run", "--repo", upstream.path().string(), "--state-dir",
                              state.path().string(), "--poll", "0", "--bootstrap", "--http-port", std::to_string(http),
                              "--webhook-secret-file", (state.path() / "webhook.secret").string(), "--previews",
                              "feature/*"},
                             state.path() / "shipper.log");
    REQUIRE_MESSAGE(eventually([&] { return served_version(port) == "v1"; }, 30000ms), read_text(state.path() / "shipper.log"));
    make_branch(upstream, "feature/hook", "hook-1");
    std::this_thread::sleep_for(1000ms);
    CHECK(preview_of(state.path(), "feature-hook").empty());  // no poll: nothing seen yet

    const std::string body = R"({"ref":"refs/heads/feature/hook"})";
    const auto reply = http_request(http, "POST", "/api/v1/webhook/git", body,
                                    {{"X-GitHub-Event", "push"}, {"X-Hub-Signature-256", tandem::hub_signature("s3cret", body)},
                                     {"Content-Type", "application/json"}});
    REQUIRE(reply);
    CHECK(reply->status == 202);
    const bool running =
        eventually([&] { return preview_of(state.path(), "feature-hook").value("state", "") == "running"; }, 30000ms);
    if (!running) {
        const auto listed = shipper(state.path(), {"previews", "-o", "json"});
        FAIL("shipper previews: exit " << listed.exit_code << ": " << listed.out << listed.err << "\n"
                                       << read_text(state.path() / "shipper.log"));
    }
    const int web = preview_of(state.path(), "feature-hook")["ports"].value("web", 0);
    CHECK(served_version(web) == "hook-1");
}

TEST_CASE("a preview whose branch went while shipper was killed is torn down at its next start, its replicas stopped") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    make_branch(upstream, "feature/gone", "gone-1");
    make_branch(upstream, "feature/stays", "stays-1");
    const std::vector<std::string> argv{TANDEM_SHIPPER, "run", "--repo", upstream.path().string(), "--state-dir",
                                        state.path().string(), "--poll", "100ms", "--bootstrap", "--http-port", "off",
                                        "--previews", "feature/*"};
    const fs::path log = state.path() / "shipper.log";
    pid_t first = start_program(state.path(), argv, log);
    const bool both = eventually([&] {
        return preview_of(state.path(), "feature-gone").value("state", "") == "running" &&
               preview_of(state.path(), "feature-stays").value("state", "") == "running";
    }, 60000ms);
    // The preview's replicas, from its own control socket.
    const std::vector<pid_t> replicas = replica_pids(state.path() / "previews" / "feature-gone");
    kill(first, SIGKILL);  // as a power cut would: the replicas stay
    waitpid(first, nullptr, 0);
    REQUIRE_MESSAGE(both, read_text(log));
    REQUIRE(replicas.size() >= 3);  // web x2, worker, db
    for (pid_t pid : replicas) CHECK(kill(pid, 0) == 0);

    git(upstream.path(), {"branch", "-q", "-D", "feature/gone"});
    BackgroundProgram second(state.path(), argv, log);
    REQUIRE_MESSAGE(eventually([&] { return preview_of(state.path(), "feature-stays").value("state", "") == "running"; },
                               60000ms),
                    read_text(log));
    CHECK(eventually([&] { return !fs::exists(state.path() / "previews" / "feature-gone"); }, 10000ms));
    for (pid_t pid : replicas) CHECK(eventually([&] { return kill(pid, 0) != 0; }, 10000ms));
    CHECK(preview_of(state.path(), "feature-gone").empty());
    bool audited = false;
    for (const auto& record : audit_records(state.path() / "previews"))
        audited = audited || (record.entry.event == tandem::ChangeEvent::preview_teardown &&
                              record.entry.message.find("feature/gone") != std::string::npos);
    CHECK(audited);
}

// A second Ctrl+C kills every replica at once, the previews' too: before, the previews still
// stopped within their stop_grace (here 120 s of a web that ignores SIGTERM) after main's died.
TEST_CASE("a second SIGINT kills the previews' replicas too, not only main's") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    make_branch(upstream, "feature/stubborn", "stubborn-1");
    std::string yaml = project_yaml(port, ", --ignore-sigterm");
    yaml.replace(yaml.find("stop_grace: 1s"), 14, "stop_grace: 120s");  // web's
    const std::string stubborn = push_to(upstream, "feature/stubborn", {{"tandem.yaml", yaml}}, "web ignores SIGTERM");
    const fs::path log = state.path() / "shipper.log";
    const pid_t engine = start_program(state.path(),
                                       {TANDEM_SHIPPER, "run", "--repo", upstream.path().string(), "--state-dir",
                                        state.path().string(), "--poll", "100ms", "--bootstrap", "--http-port", "off",
                                        "--previews", "feature/*"},
                                       log);
    const bool deployed = eventually([&] {
        const auto preview = preview_of(state.path(), "feature-stubborn");
        return preview.value("state", "") == "running" && preview.value("deployed", "") == stubborn;
    }, 60000ms);
    const std::vector<pid_t> replicas = replica_pids(state.path() / "previews" / "feature-stubborn");
    kill(engine, SIGINT);
    std::this_thread::sleep_for(1000ms);  // stopping: the stubborn web waits out its grace
    kill(engine, SIGINT);
    int exit_status = 0;
    const bool exited = eventually([&] { return waitpid(engine, &exit_status, WNOHANG) == engine; }, 30000ms);
    if (!exited) {
        kill(engine, SIGKILL);
        waitpid(engine, nullptr, 0);
    }
    for (pid_t pid : replicas) (void)eventually([&] { return kill(pid, 0) != 0; }, 5000ms);
    std::vector<pid_t> left;
    for (pid_t pid : replicas)
        if (kill(pid, 0) == 0) left.push_back(pid);
    for (pid_t pid : left) kill(pid, SIGKILL);  // what the test must not leave behind
    REQUIRE_MESSAGE(deployed, read_text(log));
    CHECK(replicas.size() >= 4);  // web x2, worker, db
    CHECK_MESSAGE(exited, "shipper still running 30 s after the second SIGINT\n" << read_text(log));
    CHECK(left.empty());
}

// Deploy previews end to end in the library: a real upstream repository with branches made
// with git, the fleet fetching it, each preview a real engine running real test services on
// ports of its own, reached by port and through the Host router; branches pushed and deleted.
#include "preview/preview_helpers.hpp"

#include <tandem/engine.hpp>
#include <tandem/previews.hpp>

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

// web (built: the test service and version.txt, health-checked) and db (state `data`, whose
// run writes a row into it, and a reset that leaves a mark), under the project name "shop".
std::string preview_yaml(int port, const std::string& extra = {}) {
    const std::string service = TANDEM_TEST_SERVICE;
    return "version: 1\n"
           "project: shop\n" +
           extra +
           "services:\n"
           "  web:\n"
           "    build:\n"
           "      command: mkdir -p out && cp " + service + " out/svc && cp version.txt out/version\n"
           "      inputs: [version.txt]\n"
           "      outputs: [out]\n"
           "    run: [out/svc, --port, \"${port}\", --version-file, out/version]\n"
           "    port: " + std::to_string(port) + "\n"
           "    stop_grace: 1s\n"
           "    health:\n"
           "      http: /healthz\n"
           "      interval: 100ms\n"
           "  db:\n"
           "    run: [sh, -c, \"echo row >> ${state.data}/rows; exec " + service + " --version-string db\"]\n"
           "    state: [data]\n"
           "    reset: \"echo wiped > ${state.data}/wiped\"\n"
           "    stop_grace: 1s\n";
}

std::string version_at(int port) { return port == 0 ? std::string{} : served_version(port); }

// The version the Host header `host` gets through the router on `port`.
struct Fleet {
    int port = free_port();
    Upstream upstream;
    TempDir state;
    std::string main_commit = upstream.commit({{"tandem.yaml", preview_yaml(port)}, {"version.txt", "main\n"}}, "main");
    std::mutex mutex;
    std::vector<std::string> said;
    std::unique_ptr<PreviewFleet> fleet;

    std::string branch(const std::string& name, const std::string& version) {
        return make_branch(upstream, name, version);
    }
    std::string push(const std::string& name, const std::string& version) {
        return push_to(upstream, name, {{"version.txt", version + "\n"}}, version);
    }

    void start(const std::function<void(PreviewOptions&)>& adjust = {}) {
        PreviewOptions options;
        options.repository = upstream.path().string();
        options.state_dir = state.path() / "previews";
        options.poll = 100ms;
        options.branches = {"feature/*"};
        options.default_policy = "wip";
        if (adjust) adjust(options);
        auto started = PreviewFleet::start(std::move(options), [this](const RuntimeEvent& e) {
            std::lock_guard lock(mutex);
            said.push_back(e.service + ": " + e.text);
        });
        REQUIRE_MESSAGE(started.ok(), started.error().to_string());
        fleet = std::move(*started);
    }

    std::optional<PreviewStatus> find(const std::string& name) const {
        for (auto& p : fleet->list())
            if (p.name == name) return p;
        return std::nullopt;
    }
    std::string state_of(const std::string& name) const {
        auto p = find(name);
        return p ? p->state : "absent";
    }
    bool serves(const std::string& name, const std::string& version) const {
        auto p = find(name);
        return p && p->state == "running" && p->ports.count("web") && version_at(p->ports.at("web")) == version;
    }
    std::vector<AuditRecord> audit() const {
        auto records = AuditLog::read(fleet->audit_path());
        REQUIRE_MESSAGE(records.ok(), records.error().to_string());
        return *records;
    }
    std::size_t count(ChangeEvent event, const std::string& preview) const {
        std::size_t n = 0;
        for (const auto& r : audit())
            if (r.entry.event == event && r.entry.message.find("preview " + preview + " ") == 0) ++n;
        return n;
    }
};

}  // namespace

TEST_CASE_FIXTURE(Fleet, "a matching branch gets a running copy, and each push to it is deployed") {
    branch("feature/login", "login-1");
    branch("bugfix/other", "other");  // no pattern matches it
    start([](PreviewOptions& o) { o.branches = {"feature/*", "main"}; });  // main: never a preview
    REQUIRE(eventually([&] { return serves("feature-login", "login-1"); }, 30000ms));
    const PreviewStatus first = *find("feature-login");
    CHECK(first.branch == "feature/login");
    CHECK(first.policy == "wip");
    CHECK(first.ports.at("web") != port);  // not main's port
    CHECK(first.url == "http://127.0.0.1:" + std::to_string(first.ports.at("web")) + "/");
    CHECK(first.state_dir == state.path() / "previews" / "feature-login");
    CHECK_FALSE(find("bugfix-other"));
    CHECK_FALSE(find("main"));

    const std::string second = push("feature/login", "login-2");
    REQUIRE(eventually([&] { return serves("feature-login", "login-2"); }, 30000ms));
    CHECK(find("feature-login")->deployed == second);
    CHECK(find("feature-login")->ports.at("web") == first.ports.at("web"));  // its URL stays
    CHECK(eventually([&] { return count(ChangeEvent::preview_create, "feature-login") == 1; }, 10000ms));  // recorded after it is shown
    CHECK(eventually([&] { return count(ChangeEvent::preview_update, "feature-login") == 1; }, 10000ms));  // recorded after it is shown
    CHECK(AuditLog::verify(fleet->audit_path()).ok);
}

TEST_CASE_FIXTURE(Fleet, "two previews of the same service answer at once, by port and by Host") {
    branch("feature/a", "a-1");
    branch("feature/b", "b-1");
    const int router = free_port();
    start([&](PreviewOptions& o) { o.port = router; });
    REQUIRE(eventually([&] { return serves("feature-a", "a-1") && serves("feature-b", "b-1"); }, 40000ms));
    CHECK(find("feature-a")->ports.at("web") != find("feature-b")->ports.at("web"));
    CHECK(find("feature-a")->url == "http://feature-a.localhost:" + std::to_string(router) + "/");
    CHECK(version_by_host(router, "feature-a.localhost") == "a-1");
    CHECK(version_by_host(router, "feature-b.localhost:" + std::to_string(router)) == "b-1");
    CHECK(version_by_host(router, "web.feature-b.localhost") == "b-1");
    auto missing = get_by_host(router, "feature-c.localhost", "/");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(missing->body.find("feature-a.localhost") != std::string::npos);  // it lists what is there
}

TEST_CASE_FIXTURE(Fleet, "a deleted branch's preview is torn down with its state") {
    branch("feature/gone", "gone-1");
    start();
    REQUIRE(eventually([&] { return serves("feature-gone", "gone-1"); }, 30000ms));
    const PreviewStatus before = *find("feature-gone");
    REQUIRE(fs::exists(before.state_dir));
    git(upstream.path(), {"branch", "-q", "-D", "feature/gone"});
    REQUIRE(eventually([&] { return !find("feature-gone"); }, 20000ms));
    CHECK(version_at(before.ports.at("web")).empty());  // nothing answers on its port
    CHECK_FALSE(fs::exists(before.state_dir));
    CHECK(eventually([&] { return count(ChangeEvent::preview_teardown, "feature-gone") == 1; }, 10000ms));  // recorded after it is shown
}

// What a stopped shipper left is dealt with in the first round that reads the branches, not the
// first round run: before, a first round whose fetch failed used that turn up, and the preview of
// a branch deleted meanwhile stayed on disk for good.
TEST_CASE_FIXTURE(Fleet, "a branch deleted while the fleet was stopped is torn down at the next start, also when the first fetch fails") {
    branch("feature/gone", "gone-1");
    branch("feature/kept", "kept-1");
    start();
    REQUIRE(eventually([&] { return serves("feature-gone", "gone-1") && serves("feature-kept", "kept-1"); }, 40000ms));
    const fs::path gone_dir = find("feature-gone")->state_dir;
    fleet.reset();
    REQUIRE(fs::exists(gone_dir / "preview.json"));
    git(upstream.path(), {"branch", "-q", "-D", "feature/gone"});
    const fs::path away = upstream.path().string() + ".away";
    fs::rename(upstream.path(), away);  // the remote cannot be fetched
    {
        std::lock_guard lock(mutex);
        said.clear();
    }
    start();
    REQUIRE(eventually([&] {
        std::lock_guard lock(mutex);
        return std::any_of(said.begin(), said.end(), [](const std::string& line) { return line.find("previews: ") != std::string::npos; });
    }, 10000ms));
    CHECK(fs::exists(gone_dir));  // nothing is known of the branches yet
    fs::rename(away, upstream.path());
    REQUIRE(eventually([&] { return serves("feature-kept", "kept-1"); }, 30000ms));
    CHECK(eventually([&] { return !fs::exists(gone_dir); }, 10000ms));
    CHECK(eventually([&] { return count(ChangeEvent::preview_teardown, "feature-gone") == 1; }, 10000ms));
}

TEST_CASE_FIXTURE(Fleet, "at the limit the oldest idle preview stops first, and a push starts it again") {
    branch("feature/one", "one-1");
    start([](PreviewOptions& o) { o.max = 2; });
    REQUIRE(eventually([&] { return serves("feature-one", "one-1"); }, 30000ms));
    branch("feature/two", "two-1");
    REQUIRE(eventually([&] { return serves("feature-two", "two-1"); }, 30000ms));
    branch("feature/three", "three-1");
    REQUIRE(eventually([&] { return serves("feature-three", "three-1"); }, 30000ms));
    CHECK(state_of("feature-one") == "stopped");  // pushed longest ago
    CHECK(find("feature-one")->why.find("limit") != std::string::npos);
    CHECK(state_of("feature-two") == "running");
    CHECK(eventually([&] { return count(ChangeEvent::preview_stop, "feature-one") == 1; }, 10000ms));  // recorded after it is shown

    push("feature/one", "one-2");
    REQUIRE(eventually([&] { return serves("feature-one", "one-2"); }, 30000ms));
    CHECK(state_of("feature-two") == "stopped");  // now the oldest idle one
    CHECK(state_of("feature-three") == "running");
    CHECK(eventually([&] { return count(ChangeEvent::preview_create, "feature-one") == 2; }, 10000ms));  // recorded after it is shown
}

TEST_CASE_FIXTURE(Fleet, "with more branches than the limit at the fleet's start, the others wait and none starts only to stop") {
    for (const char* name : {"feature/p", "feature/q", "feature/r", "feature/s"}) branch(name, name);
    start([](PreviewOptions& o) { o.max = 2; });
    auto running = [&] {
        int n = 0;
        for (const auto& p : fleet->list()) n += p.state == "running" ? 1 : 0;
        return n;
    };
    REQUIRE(eventually([&] { return running() == 2 && fleet->list().size() == 4; }, 30000ms));
    std::this_thread::sleep_for(500ms);  // a few more rounds
    CHECK(running() == 2);
    for (const auto& p : fleet->list())
        if (p.state != "running") CHECK(p.why.find("waiting") != std::string::npos);
    std::size_t stops = 0, creates = 0;
    for (const auto& r : audit()) {
        stops += r.entry.event == ChangeEvent::preview_stop ? 1 : 0;
        creates += r.entry.event == ChangeEvent::preview_create ? 1 : 0;
    }
    CHECK(stops == 0);
    CHECK(creates == 2);
}

TEST_CASE_FIXTURE(Fleet, "a preview with no push for the idle time stops, and the next push starts it") {
    start([](PreviewOptions& o) { o.idle = Duration(5000); });
    branch("feature/idle", "idle-1");  // after the fleet's start: pushed now, not at its commit's time
    // Created, deployed, then stopped once idle (whether or not this thread saw it serve between).
    REQUIRE(eventually([&] { return count(ChangeEvent::preview_stop, "feature-idle") == 1; }, 30000ms));
    CHECK(state_of("feature-idle") == "stopped");
    CHECK(find("feature-idle")->why.find("idle") != std::string::npos);
    const auto records = audit();
    REQUIRE(records.size() == 2);
    CHECK(records[0].entry.event == ChangeEvent::preview_create);
    CHECK(records[0].entry.outcome == ChangeOutcome::succeeded);
    const int web = find("feature-idle")->ports.at("web");
    CHECK(version_at(web).empty());
    push("feature/idle", "idle-2");
    REQUIRE(eventually([&] { return serves("feature-idle", "idle-2"); }, 30000ms));
    CHECK(find("feature-idle")->ports.at("web") == web);  // the same port as before
}

TEST_CASE_FIXTURE(Fleet, "a preview whose kept port was taken while it was stopped starts on a new one") {
    branch("feature/moved", "moved-1");
    start();
    REQUIRE(eventually([&] { return serves("feature-moved", "moved-1"); }, 30000ms));
    const int kept = find("feature-moved")->ports.at("web");
    fleet.reset();
    // Another program takes the port while no shipper runs.
    const int other = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(other >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(kept));
    const int one = 1;
    ::setsockopt(other, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    REQUIRE(::bind(other, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(other, 4) == 0);
    {
        std::lock_guard lock(mutex);
        said.clear();
    }
    start();
    // (Never asked on the taken port: the other program accepts and never answers.)
    const bool served = eventually([&] {
        auto p = find("feature-moved");
        return p && p->ports.count("web") && p->ports.at("web") != kept && serves("feature-moved", "moved-1");
    }, 30000ms);
    ::close(other);
    REQUIRE(served);
    const int moved = find("feature-moved")->ports.at("web");
    CHECK(moved != kept);
    std::lock_guard lock(mutex);
    CHECK(std::any_of(said.begin(), said.end(), [&](const std::string& line) {
        return line.find(std::to_string(kept)) != std::string::npos && line.find(std::to_string(moved)) != std::string::npos;
    }));
}

TEST_CASE_FIXTURE(Fleet, "a preview whose service cannot stay up shows failed, naming the service, not running") {
    git(upstream.path(), {"checkout", "-q", "-B", "making", "main"});
    std::string yaml = preview_yaml(port);
    const std::string db_run = yaml.substr(yaml.find("    run: [sh, -c, \"echo row"));
    yaml.replace(yaml.find(db_run), db_run.find('\n') + 1, "    run: [sh, -c, \"echo no database here >&2; exit 3\"]\n");
    upstream.commit({{"tandem.yaml", yaml}, {"version.txt", "down-1\n"}}, "db exits");
    git(upstream.path(), {"checkout", "-q", "main"});
    git(upstream.path(), {"branch", "-q", "-M", "making", "feature/down"});
    start();
    // Under wip no health gate holds the deploy back: the commit is deployed, its db keeps exiting.
    REQUIRE(eventually([&] { return state_of("feature-down") == "failed"; }, 30000ms));
    const PreviewStatus down = *find("feature-down");
    INFO(down.why);
    CHECK(down.deployed == down.commit);
    CHECK(down.why.rfind("db: ", 0) == 0);
    CHECK(fleet->engine("feature-down"));  // still running: its web serves, db is restarted
}

TEST_CASE_FIXTURE(Fleet, "a preview's reset leaves the main engine's data alone") {
    // The main branch runs too, on its own state directory, as shipper runs it.
    GitSource main;
    main.repository = upstream.path().string();
    main.state_dir = state.path();
    main.poll = 100ms;
    main.bootstrap = true;
    main.project.default_policy = "wip";
    EngineOptions main_options;
    main_options.source = main;
    auto main_engine = tandem::Engine::start(std::move(main_options), {});
    REQUIRE_MESSAGE(main_engine.ok(), main_engine.error().to_string());
    REQUIRE(eventually([&] { return version_at(port) == "main"; }, 30000ms));

    branch("feature/data", "data-1");
    start();
    REQUIRE(eventually([&] { return serves("feature-data", "data-1"); }, 30000ms));
    tandem::Engine* preview = fleet->engine("feature-data");
    REQUIRE(preview);
    REQUIRE(preview->control().reset("db", "test").ok());

    // Each engine's state `data` is its own: the mark is in the preview's, the rows in main's.
    auto files_named = [](const fs::path& root, const std::string& name, const fs::path& skip) {
        std::vector<fs::path> found;
        for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
            if (!skip.empty() && it->path() == skip) it.disable_recursion_pending();
            else if (it->path().filename() == name) found.push_back(it->path());
        }
        return found;
    };
    const fs::path previews_dir = state.path() / "previews";
    CHECK(files_named(previews_dir, "wiped", {}).size() == 1);
    CHECK(files_named(state.path(), "wiped", previews_dir).empty());
    const auto main_rows = files_named(state.path(), "rows", previews_dir);
    REQUIRE(main_rows.size() == 1);
    CHECK(read_text(main_rows.front()) == "row\n");
    fleet.reset();
    (*main_engine)->stop_following();
}

TEST_CASE_FIXTURE(Fleet, "previews: in the main branch's tandem.yaml turns them on when no flag gives patterns") {
    // No patterns from the flags: the file's are used (as shipper reads them from the deployed commit).
    const std::string yaml = preview_yaml(port, "policy: wip\npreviews:\n  branches: [review/*]\n  policy: wip\n  max: 1\n");
    upstream.commit({{"tandem.yaml", yaml}}, "previews on");
    branch("review/x", "x-1");
    branch("feature/y", "y-1");
    start([&](PreviewOptions& o) {
        o.branches.clear();
        o.file_settings = [yaml]() -> std::optional<PreviewSpec> {
            TempDir dir;
            dir.write("tandem.yaml", yaml);
            auto project = load_project(dir.path(), ProjectOptions{});  // on the fleet's thread: no REQUIRE
            return project ? project->spec.previews : std::nullopt;
        };
    });
    REQUIRE(eventually([&] { return serves("review-x", "x-1"); }, 30000ms));
    CHECK_FALSE(find("feature-y"));
}

TEST_CASE_FIXTURE(Fleet, "a branch whose tandem.yaml is broken gets a failed preview that names the file, and main's stay up") {
    branch("feature/fine", "fine-1");
    git(upstream.path(), {"checkout", "-q", "-B", "making", "main"});
    upstream.commit({{"tandem.yaml", "version: 1\nservices:\n  web:\n    run: [srv]\n    replicaz: 2\n"}}, "broken");
    git(upstream.path(), {"checkout", "-q", "main"});
    git(upstream.path(), {"branch", "-q", "-M", "making", "feature/broken"});
    start();
    REQUIRE(eventually([&] { return state_of("feature-broken") == "failed"; }, 30000ms));
    const PreviewStatus broken = *find("feature-broken");
    INFO(broken.why);
    CHECK(broken.why.find("tandem.yaml") != std::string::npos);
    CHECK(broken.why.find("replicaz") != std::string::npos);
    REQUIRE(eventually([&] { return serves("feature-fine", "fine-1"); }, 30000ms));
    // A fix pushed to the branch deploys it.
    push_to(upstream, "feature/broken", {{"tandem.yaml", preview_yaml(port)}, {"version.txt", "fixed\n"}}, "fixed");
    REQUIRE(eventually([&] { return serves("feature-broken", "fixed"); }, 30000ms));
}

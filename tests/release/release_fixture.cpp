// The release tests' shared fixture.
#include "release/release_fixture.hpp"

#include <pwd.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace tandem::test {

using namespace std::chrono_literals;

Upstream::Upstream() {
    git(path(), {"init", "-q", "-b", "main"});
    git(path(), {"config", "user.name", "Ada Lovelace"});
    git(path(), {"config", "user.email", "ada@example.com"});
}

std::string Upstream::commit(const std::map<std::string, std::string>& files, const std::string& message,
                             const std::filesystem::path& signing_key) {
    for (const auto& [file, content] : files) dir_.write(file, content);
    git(path(), {"add", "-A"});
    if (signing_key.empty()) git(path(), {"commit", "-q", "-m", message});
    else git(path(), {"-c", "gpg.format=ssh", "-c", "user.signingkey=" + signing_key.string(), "commit", "-q", "-S", "-m", message});
    return head();
}

std::string Upstream::head() const {
    std::string id = git(path(), {"rev-parse", "HEAD"});
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    return id;
}

std::string project_yaml(int port, const std::string& web_flags, const std::string& policy_extra) {
    const std::string service = TANDEM_TEST_SERVICE;
    return "version: 1\n"
           "project: shop\n"
           "policy: release\n"
           "policies:\n"
           "  release:\n"
           "    from: harness\n"
           "    rollout:\n"
           "      gate_timeout: 2s\n"
           "      drain_timeout: 200ms\n"
           "    auto_revert:\n"
           "      window: 3s\n"
           "      max_errors: 3\n" +
           policy_extra +
           "services:\n"
           "  web:\n"
           "    build:\n"
           "      command: mkdir -p out && cp " + service + " out/svc && cp version.txt out/version\n"
           "      inputs: [version.txt]\n"
           "      outputs: [out]\n"
           "    run: [out/svc, --port, \"${port}\", --version-file, out/version" + web_flags + "]\n"
           "    port: " + std::to_string(port) + "\n"
           "    replicas: 2\n"
           "    stop_grace: 1s\n"
           "    health:\n"
           "      http: /healthz\n"
           "      interval: 100ms\n"
           "      failure_threshold: 2\n"
           "  worker:\n"
           "    run: [" + service + ", --version-string, worker]\n"
           "    stop_grace: 1s\n"
           "  db:\n"
           "    run: [" + service + ", --version-string, db]\n"
           "    reset: echo wiped\n"
           "    stop_grace: 1s\n";
}

void EngineEvents::add(const RuntimeEvent& e) {
    std::lock_guard lock(mutex);
    list.push_back(e);
}

int EngineEvents::count(RuntimeEventKind kind, const std::string& prefix, const std::string& service) {
    std::lock_guard lock(mutex);
    int n = 0;
    for (const auto& e : list)
        if (e.kind == kind && e.text.rfind(prefix, 0) == 0 && (service.empty() || e.service == service)) ++n;
    return n;
}

Engine::Engine(const std::filesystem::path& upstream, const std::filesystem::path& state_dir, bool bootstrap,
               Duration poll, std::optional<std::filesystem::path> allowed_signers) {
    ExecutorOptions options;
    options.project_root = state_dir / "releases";
    options.state_dir = state_dir / "runtime";
    auto started = Executor::start(options, [this](const RuntimeEvent& e) {
        events.add(e);
        if (ReleaseLoop* following = auditing.load()) following->runtime_event(e);  // as shipper run does
    });
    REQUIRE_MESSAGE(started.ok(), started.error().to_string());
    runtime = std::move(*started);
    ReleaseLoop::Options loop_options;
    loop_options.repository = upstream.string();
    loop_options.ref = "main";
    loop_options.state_dir = state_dir;
    loop_options.project.default_policy = "harness";
    loop_options.poll = poll;
    loop_options.bootstrap = bootstrap;
    loop_options.allowed_signers = std::move(allowed_signers);
    auto loop_started = ReleaseLoop::start(loop_options, *runtime, [this](const RuntimeEvent& e) { events.add(e); });
    REQUIRE_MESSAGE(loop_started.ok(), loop_started.error().to_string());
    loop = std::move(*loop_started);
    auditing = loop.get();
}

Engine::~Engine() {
    auditing = nullptr;
    loop.reset();
    if (runtime) runtime->stop_all();
}

bool Engine::deployed(const std::string& commit, Duration timeout) {
    return eventually(
        [&] {
            const auto s = loop->status();
            return s.deployed == commit && !s.busy;
        },
        timeout);
}

std::string served_version(int port) {
    auto reply = http_get(port, "/version", 500ms);
    if (!reply || reply->status != 200) return {};
    std::string body = reply->body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    return body;
}

std::vector<AuditRecord> audit_records(const std::filesystem::path& state_dir) {
    auto records = AuditLog::read(state_dir / "audit.jsonl");
    REQUIRE_MESSAGE(records.ok(), records.error().to_string());
    return *records;
}

pid_t start_program(const std::filesystem::path& cwd, std::vector<std::string> argv, const std::filesystem::path& log) {
    const pid_t pid = fork();
    if (pid == 0) {
        const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(out, 1);
        dup2(out, 2);
        if (chdir(cwd.c_str()) != 0) _exit(126);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    return pid;
}

void stop_program(pid_t pid) {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
}

std::string user_name() {
    const passwd* entry = getpwuid(geteuid());
    return entry ? entry->pw_name : "uid " + std::to_string(geteuid());
}

CommandResult shipper(const std::filesystem::path& state, std::vector<std::string> args) {
    args.insert(args.begin(), TANDEM_SHIPPER);
    args.push_back("--state-dir");
    args.push_back(state.string());
    return run_command(args);
}

nlohmann::json shipper_status(const std::filesystem::path& state) {
    const auto result = shipper(state, {"status", "-o", "json"});
    const auto j = nlohmann::json::parse(result.out, nullptr, false);
    return result.exit_code == 0 && j.is_object() ? j : nlohmann::json::object();
}

namespace {

std::vector<std::string> shipper_run_argv(const std::string& repository, const std::string& state,
                                          const std::vector<std::string>& extra) {
    std::vector<std::string> argv{TANDEM_SHIPPER, "run",  "--repo",      repository, "--state-dir",
                                  state,          "--poll", "100ms",     "--bootstrap"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

}  // namespace

ShipperRun::ShipperRun(const std::vector<std::string>& extra)
    : engine(state.path(), shipper_run_argv(upstream.path().string(), state.path().string(), extra), log) {
    REQUIRE_MESSAGE(eventually([&] { return release().value("deployed", "") == first; }, std::chrono::milliseconds(30000)), read_text(log));
}

}  // namespace tandem::test

// `shipper run`: an engine on a git source (the process runtime, the release loop that follows
// a ref) and the control socket, until SIGINT, SIGTERM or SIGHUP; every event printed as one line.
#include "frontend/event_line_printer.hpp"
#include "frontend/event_subscribers.hpp"
#include "frontend/descriptor_limit.hpp"
#include "frontend/http_serving.hpp"
#include "frontend/output.hpp"
#include "frontend/project_input.hpp"
#include "frontend/stop_signals.hpp"
#include "frontend/release_commands.hpp"

#include <tandem/control.hpp>
#include <tandem/engine.hpp>
#include <tandem/previews.hpp>
#include <tandem/release_loop.hpp>
#include <tandem/swarm_runtime.hpp>
#include <tandem/executor.hpp>
#include <tandem/utc_time.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <mutex>

namespace tandem::cli {

namespace {

// The https token: --token-file, else $SHIPPER_GIT_TOKEN; surrounding blanks and newlines trimmed.
Result<std::string> git_token(const Options& options) {
    std::string token;
    if (options.token_file) {
        std::ifstream in(*options.token_file);
        std::stringstream text;
        text << in.rdbuf();
        if (!in) return make_error(ErrorCode::io, "--token-file: cannot read " + *options.token_file);
        token = text.str();
    } else if (const char* env = std::getenv("SHIPPER_GIT_TOKEN")) {
        token = env;
    }
    const auto first = token.find_first_not_of(" \t\r\n");
    token = first == std::string::npos ? std::string{} : token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
    if (options.token_file && token.empty())
        return make_error(ErrorCode::invalid_value, fmt::format("--token-file: {} is empty", *options.token_file));
    return token;
}

// --ssh-key, --known-hosts, the token and --fetch-timeout; a named file that is missing is an error.
Result<FetchOptions> fetch_options(const Options& options) {
    FetchOptions fetch;
    for (const auto& [flag, value] : {std::pair{"--ssh-key", &options.ssh_key}, std::pair{"--known-hosts", &options.known_hosts}})
        if (*value && !std::filesystem::is_regular_file(**value))
            return make_error(ErrorCode::io, fmt::format("{}: no such file: {}", flag, **value));
    if (options.ssh_key) fetch.ssh_key = std::filesystem::absolute(*options.ssh_key);
    if (options.known_hosts) fetch.known_hosts = std::filesystem::absolute(*options.known_hosts);
    auto token = git_token(options);
    if (!token) return token.error();
    fetch.token = std::move(*token);
    if (options.fetch_timeout) fetch.timeout = *options.fetch_timeout;
    return fetch;
}

// The loop's settings from the options; a missing --repo or a named file that is not there is an error.
Result<ReleaseLoop::Options> loop_options(const Options& options, const ToolDefaults& tool) {
    if (!options.repo)
        return make_error(ErrorCode::usage, "run follows a git repository: give it with --repo URL_OR_PATH");
    if (options.allowed_signers && !std::filesystem::is_regular_file(*options.allowed_signers))
        return make_error(ErrorCode::io, "--allowed-signers: no such file: " + *options.allowed_signers);
    auto fetch = fetch_options(options);
    if (!fetch) return fetch.error();
    ReleaseLoop::Options loop;
    loop.fetch = std::move(*fetch);
    loop.repository = *options.repo;
    loop.ref = options.ref.value_or("main");
    const std::filesystem::path file(options.file);
    loop.project_dir = file.parent_path().generic_string();
    loop.state_dir = release_state_dir(options);
    loop.project = project_options(options, tool);
    loop.poll = options.poll.value_or(std::chrono::milliseconds(2000));
    loop.bootstrap = options.bootstrap;
    if (options.allowed_signers) loop.allowed_signers = std::filesystem::absolute(*options.allowed_signers);
    if (options.checkpoint_repo && !options.checkpoint_key)
        return make_error(ErrorCode::usage, "--checkpoint-repo needs --checkpoint-key FILE (the key that signs checkpoints)");
    if (options.checkpoint_key) {
        if (!std::filesystem::is_regular_file(*options.checkpoint_key))
            return make_error(ErrorCode::io, "--checkpoint-key: no such file: " + *options.checkpoint_key);
        AuditCheckpointSigning signing;
        signing.key = std::filesystem::absolute(*options.checkpoint_key);
        signing.repository = options.checkpoint_repo ? std::filesystem::absolute(*options.checkpoint_repo)
                                                     : loop.state_dir / "audit-checkpoints.git";
        loop.checkpoints = std::move(signing);
    }
    return loop;
}

struct SwarmRuntime {
    SwarmRuntimeOptions options;
    std::unique_ptr<Runtime> runtime;
};

// --runtime swarm: container services on the cluster whose manager answers on --swarm-host.
Result<SwarmRuntime> swarm_runtime(const Options& options, const ReleaseLoop::Options& loop) {
    SwarmRuntime out;
    if (options.swarm_host) out.options.socket_path = options.swarm_host->substr(7);
    out.options.registry = options.registry.value_or("");
    out.options.state_dir = loop.state_dir / "runtime";
    ProcessRuntimeOptions process;
    process.state_dir = loop.state_dir / "runtime";
    auto made = make_swarm_runtime(process, out.options);
    if (!made) return made.error();
    out.runtime = std::move(*made);
    return out;
}

// The deploy previews beside the main branch: the flags over `previews:` of the deployed
// commit's tandem.yaml; with neither, the fleet stays idle (and fetches nothing).
Result<std::unique_ptr<PreviewFleet>> start_previews(const Options& options, const ReleaseLoop::Options& loop,
                                                     ReleaseLoop* release, PreviewFleet::EventHandler on_event) {
    PreviewOptions previews;
    previews.repository = loop.repository;
    previews.main_ref = loop.ref;
    previews.project_dir = loop.project_dir;
    previews.state_dir = loop.state_dir / "previews";
    previews.fetch = loop.fetch;
    previews.allowed_signers = loop.allowed_signers;
    previews.project = loop.project;
    previews.project.policy.reset();
    previews.poll = loop.poll;
    previews.branches = options.previews;
    previews.policy = options.preview_policy;
    previews.default_policy = "wip";  // a preview is work in progress: reset allowed, no revert
    previews.idle = options.preview_idle;
    previews.max = options.preview_max;
    previews.port = options.preview_port;
    previews.file_settings = [release]() -> std::optional<PreviewSpec> {
        auto spec = release->deployed_spec();
        return spec ? spec->previews : std::nullopt;
    };
    return PreviewFleet::start(std::move(previews), std::move(on_event));
}

}  // namespace

int run_command(const Options& options, const ToolDefaults& tool) {
    auto settings = loop_options(options, tool);
    if (!settings) return report_error(settings.error(), options, tool);
    const ReleaseLoop::Options loop_settings = std::move(*settings);

    raise_descriptor_limit();
    const sigset_t signals = stop_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // the threads started below inherit the mask

    EventLinePrinter printer(std::cout, std::cerr, options.output == OutputFormat::json, tool.program);
    EventSubscribers subscribers;
    auto on_event = [&printer, &subscribers](const RuntimeEvent& e) {
        printer.print(e);
        subscribers.publish(e);
    };
    EngineOptions engine_options;
    engine_options.source = loop_settings;
    engine_options.on_down = [] { kill(getpid(), SIGTERM); };
    if (options.runtime == std::string("swarm")) {
        auto cluster = swarm_runtime(options, loop_settings);
        if (!cluster) return report_error(cluster.error(), options, tool);
        auto& git = std::get<GitSource>(engine_options.source);
        git.image_builder = [swarm = cluster->options](std::function<void(const RuntimeEvent&)> emit) {
            return make_swarm_image_builder(swarm, std::move(emit));
        };
        engine_options.runtime = [made = std::make_shared<std::unique_ptr<Runtime>>(std::move(cluster->runtime))] {
            return std::move(*made);
        };
    }
    auto engine = Engine::start(std::move(engine_options), on_event);
    if (!engine) return report_error(engine.error(), options, tool);
    RuntimeControl& handler = (*engine)->control();
    ReleaseLoop* release = (*engine)->release_loop();
    // Before any transport: a webhook or `shipper previews` that arrives first finds them.
    auto previews = start_previews(options, loop_settings, release, on_event);
    if (!previews) return report_error(previews.error(), options, tool);
    handler.attach_previews(previews->get());
    auto server = ControlServer::start(loop_settings.state_dir / "control.sock", handler);
    if (!server) return report_error(server.error(), options, tool);
    subscribers.attach(handler);
    auto say = [&printer](const std::string& text) { printer.print(RuntimeEvent{RuntimeEventKind::state, "", text}); };
    const PolicySet policy = release->policy();
    auto http = serve_http(options, tool, handler,
                           HttpServing{&policy, release->access_roles(), release->api_port(),
                                       [release](const std::string& what) { (void)release->audit_denied(what); }, say});
    if (!http) return report_error(http.error(), options, tool);
    subscribers.attach(http->api.get(), loop_settings.state_dir, http->local_token);
    printer.print(RuntimeEvent{RuntimeEventKind::state, "",
                               fmt::format("following {} of {} (state in {}); Ctrl+C stops everything",
                                           loop_settings.ref, loop_settings.repository,
                                           loop_settings.state_dir.string()),
                               0, false, {}});

    int received = 0;
    sigwait(&signals, &received);
    printer.print(RuntimeEvent{RuntimeEventKind::state, "",
                               fmt::format("got {}, stopping (cancelling work in flight; again to kill everything now)",
                                           strsignal(received)),
                               0, false, {}});
    PreviewFleet* fleet = previews->get();  // destroyed after `force`: its thread may call it
    const SecondSignal force(signals, [&printer, &engine, fleet](int again) {
        printer.print(RuntimeEvent{RuntimeEventKind::state, "",
                                   fmt::format("got {} again, killing every replica", strsignal(again)),
                                   0, false, {}});
        (*engine)->kill_all();
        if (fleet) fleet->kill_all();  // the previews' too
    });
    subscribers.detach();
    http->api.reset();
    server->reset();
    handler.attach_previews(nullptr);
    if (fleet) fleet->stop();  // every preview's services stop; their state stays for the next run
    (*engine)->stop_following();
    (*engine)->executor().stop_all();
    return 0;
}

}  // namespace tandem::cli

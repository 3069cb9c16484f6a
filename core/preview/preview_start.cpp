// A preview started (an Engine of its own on the fleet's mirror, with its ports, project name,
// policy and control socket), deployed again when its branch moved, read back into its status,
// and reached through the routing port.
#include "preview/preview_state.hpp"

#include "engine/repository_name.hpp"

#include "support/durable_file.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>

namespace tandem {

namespace {

using Clock = std::chrono::system_clock;

// The options of a preview's engine: the branch of the fleet's mirror, in a directory of its own.
EngineOptions engine_options(const PreviewOptions& options, const PreviewStatus& preview, const std::string& mirror,
                             const std::string& policy, std::shared_ptr<detail::PreviewPorts> ports) {
    GitSource git;
    git.repository = mirror;  // fetched by the fleet: a preview fetches from it locally
    git.ref = preview.branch;
    git.project_dir = options.project_dir;
    git.state_dir = preview.state_dir;
    git.project = options.project;
    git.project.policy = policy;
    git.project.instance = ProjectInstance{
        "-" + preview.name, preview_name(detail::repository_name(options.repository)) + "-" + preview.name,
        [ports](const std::string& service, int port) { return ports->port(service, port); }};
    git.poll = Duration(0);  // the fleet says when: sync() after each fetch that moved the branch
    git.bootstrap = true;    // a preview starts from nothing by design
    git.allowed_signers = options.allowed_signers;
    EngineOptions engine;
    engine.source = std::move(git);
    engine.runtime = options.runtime;
    return engine;
}

// "SERVICE: why" of the first service the engine has crashed with no replica running; "" if none.
std::string down_service(Engine& engine) {
    for (const auto& service : engine.control().status())
        if (service.state == ServiceState::crashed && service.replicas.empty())
            return service.name + ": " + (service.last_error.empty() ? "crashed" : service.last_error);
    return {};
}

}  // namespace

Status PreviewFleet::State::start_preview(PreviewStatus& preview, const PreviewSettings& settings,
                                          const std::string& actor) {
    const auto started = std::chrono::steady_clock::now();
    const bool again = !preview.deployed.empty();  // it ran before, and stopped
    preview.policy = settings.policy;
    preview.state = "deploying";
    preview.why.clear();
    publish(preview.name, preview);
    if (auto noted = note_branch(preview); !noted) return fail_start(preview, noted.error(), actor);
    if (!ports.count(preview.name)) {
        auto opened = detail::PreviewPorts::open(preview.state_dir / "ports.json");
        if (!opened) return fail_start(preview, opened.error(), actor);
        ports[preview.name] = std::move(*opened);
    }
    // Its ports were free when chosen; another program may have taken one since it last ran.
    auto moved = ports[preview.name]->replace_taken();
    if (!moved) return fail_start(preview, moved.error(), actor);
    for (const auto& move : *moved)
        say(fmt::format("preview {}: port {} of {} (its {}) is taken by another program: it publishes {} now",
                        preview.name, move.from, move.service, move.written, move.to),
            true);
    // The preview's control follows its services' lines once it exists (for `shipper logs -f`).
    auto control = std::make_shared<std::atomic<RuntimeControl*>>(nullptr);
    auto forward = [this, name = preview.name, control](const RuntimeEvent& e) {
        if (RuntimeControl* c = control->load()) c->publish(e);
        tell(name, e);
    };
    auto engine = Engine::start(
        engine_options(options, preview, mirror.path().string(), settings.policy, ports[preview.name]), forward);
    if (!engine) return fail_start(preview, engine.error(), actor);
    control->store(&(*engine)->control());
    RunningPreview entry;
    entry.engine = std::move(*engine);
    if (options.control_sockets) {
        auto server = ControlServer::start(preview.state_dir / "control.sock", entry.engine->control());
        if (server) entry.control = std::move(*server);
        else say(fmt::format("preview {}: no control socket: {}", preview.name, server.error().to_string()), true);
    }
    ReleaseLoop* loop = entry.engine->release_loop();
    {
        std::lock_guard lock(mutex);
        running[preview.name] = std::move(entry);
    }
    (void)loop->sync(actor);  // waits for the first deploy, which began at once
    loop->wait_idle();         // and for the worker to have recorded it
    refresh(preview, settings);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    const bool ok = preview.state == "running";
    const std::string message =
        ok ? fmt::format("{} at {} in {} ms", again ? "started again" : "created", preview.url, took.count())
           : fmt::format("{} but its deploy failed: {}", again ? "started again" : "created", preview.why);
    say(fmt::format("preview {} ({}): {}", preview.name, preview.branch, message), !ok);
    audit_change(ChangeEvent::preview_create, preview, actor, ok ? ChangeOutcome::succeeded : ChangeOutcome::failed,
                 message);
    return Ok{};
}

// preview.json in the preview's directory: which branch it is, for a fleet that finds the
// directory after a restart and the branch gone.
Status PreviewFleet::State::note_branch(const PreviewStatus& preview) {
    std::error_code ec;
    std::filesystem::create_directories(preview.state_dir, ec);
    if (ec)
        return make_error(ErrorCode::io,
                          fmt::format("cannot create {}: {}", preview.state_dir.string(), ec.message()));
    return replace_file_durably(preview.state_dir / "preview.json",
                                nlohmann::json{{"branch", preview.branch}, {"name", preview.name}}.dump() + "\n");
}

// What a killed shipper left running of a preview that is not started now (its replicas, its
// containers): stopped by opening its runtime on its state directory, as an engine start does.
Status PreviewFleet::State::sweep_leftovers(const PreviewStatus& preview, bool discard) {
    const std::filesystem::path runtime_dir = preview.state_dir / "runtime";
    std::error_code ec;
    if (!std::filesystem::exists(runtime_dir, ec)) return Ok{};
    ExecutorOptions executor_options;
    executor_options.project_root = preview.state_dir / "releases";
    executor_options.state_dir = runtime_dir;
    executor_options.project_name = preview.name;
    auto forward = [this, name = preview.name](const RuntimeEvent& e) { tell(name, e); };
    auto executor = options.runtime ? Executor::start(options.runtime(), executor_options, forward)
                                    : Executor::start(executor_options, forward);
    if (!executor) {
        say(fmt::format("preview {}: cannot stop what a killed engine left: {}", preview.name,
                        executor.error().to_string()),
            true);
        return executor.error();
    }
    (*executor)->stop_all();
    return discard ? (*executor)->discard_data() : Status(Ok{});
}

// A preview's event, its service named "<preview>/<service>" (the preview's name alone for its engine's).
void PreviewFleet::State::tell(const std::string& preview, const RuntimeEvent& event) const {
    if (!on_event) return;
    RuntimeEvent tagged = event;
    tagged.service = event.service.empty() ? preview : preview + "/" + event.service;
    on_event(tagged);
}

Status PreviewFleet::State::fail_start(PreviewStatus& preview, const Error& error, const std::string& actor) {
    preview.state = "failed";
    preview.why = error.to_string();
    publish(preview.name, preview);
    say(fmt::format("preview {} ({}) did not start: {}", preview.name, preview.branch, preview.why), true);
    audit_change(ChangeEvent::preview_create, preview, actor, ChangeOutcome::failed, "did not start: " + preview.why);
    return error;
}

void PreviewFleet::State::update_preview(PreviewStatus& preview, const std::string& actor) {
    const auto started = std::chrono::steady_clock::now();
    const std::string previous = preview.deployed;
    ReleaseLoop* loop = running[preview.name].engine->release_loop();
    preview.state = "deploying";
    publish(preview.name, preview);
    (void)loop->sync(actor);
    loop->wait_idle();
    PreviewSettings settings = this->settings();
    refresh(preview, settings);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    const bool ok = preview.state == "running";
    const std::string message = ok ? fmt::format("deployed {} in {} ms", preview.commit.substr(0, 12), took.count())
                                   : "its deploy failed: " + preview.why;
    say(fmt::format("preview {} ({}): {}", preview.name, preview.branch, message), !ok);
    audit_change(ChangeEvent::preview_update, preview, actor, ok ? ChangeOutcome::succeeded : ChangeOutcome::failed,
                 message, previous);
}

// The preview's status from its engine: what runs, how it went, its ports and URL.
void PreviewFleet::State::refresh(PreviewStatus& preview, const PreviewSettings& settings) {
    auto found = running.find(preview.name);
    if (found == running.end()) return;
    ReleaseLoop* loop = found->second.engine->release_loop();
    const ReleaseStatus status = loop->status();
    preview.deployed = status.deployed;
    preview.ports.clear();
    std::string main = settings.service;
    if (auto spec = loop->deployed_spec()) {
        for (const auto& service : spec->services) {
            if (service.port == 0) continue;
            preview.ports[service.name] = service.port;
            if (main.empty()) main = service.name;
        }
    }
    // Deployed is running, whatever the loop does meanwhile (a fetch that finds nothing new),
    // unless a service of it is down: a recover whose start failed, a process that keeps exiting.
    const std::string down = down_service(*found->second.engine);
    if (status.deployed == preview.commit && down.empty()) preview.state = "running";
    else if (status.busy) preview.state = "deploying";
    else preview.state = "failed";
    preview.why = preview.state != "failed"    ? ""
                  : !down.empty()              ? down
                  : status.last_error.empty() ? "the branch's newest commit is not deployed"
                                               : status.last_error;
    const auto main_port = preview.ports.find(main);
    if (router_port) preview.url = fmt::format("http://{}.{}:{}/", preview.name, settings.domain, *router_port);
    else if (main_port != preview.ports.end()) preview.url = fmt::format("http://127.0.0.1:{}/", main_port->second);
    else preview.url.clear();
    std::lock_guard lock(mutex);
    route_ports[preview.name] = preview.ports;
    main_service[preview.name] = main;
    previews[preview.name] = preview;
}

void PreviewFleet::State::publish(const std::string& name, const PreviewStatus& preview) {
    std::lock_guard lock(mutex);
    previews[name] = preview;
}

// The routing port follows the settings: opened, moved or closed between rounds.
void PreviewFleet::State::set_router(const PreviewSettings& settings) {
    const std::optional<int> wanted = settings.branches.empty() ? std::nullopt : settings.port;
    if (wanted == router_tried) return;
    router_tried = wanted;
    router.reset();
    {
        std::lock_guard lock(mutex);
        router_port.reset();
    }
    if (!wanted) return;
    auto started = detail::HostRouter::start(
        detail::HostRouter::Options{"127.0.0.1", *wanted},
        [this](const std::string& host) -> std::optional<int> {
            const int port = route(host);
            return port == 0 ? std::nullopt : std::optional<int>(port);
        },
        [this](const std::string& host) { return not_found(host); });
    if (!started) {
        say("previews: " + started.error().to_string(), true);
        return;
    }
    router = std::move(*started);
    std::lock_guard lock(mutex);
    router_port = wanted;
}

std::string PreviewFleet::State::not_found(const std::string& host) const {
    std::lock_guard lock(mutex);
    std::string text = fmt::format("No deploy preview answers to {}.\n\nPreviews here:\n", host);
    if (previews.empty()) text += "  (none)\n";
    for (const auto& [name, preview] : previews)
        text += fmt::format("  {}.{}  branch {}  {}{}\n", name, domain, preview.branch, preview.state,
                            preview.why.empty() ? "" : " (" + preview.why + ")");
    return text;
}

}  // namespace tandem

// `up`: plans the project, runs an engine on its files (the process runtime, a reconcile loop,
// the watcher), prints what happens (service-prefixed logs and state changes), and stops everything on
// SIGINT, SIGTERM or SIGHUP.
#include "frontend/up.hpp"

#include "frontend/event_subscribers.hpp"
#include "frontend/descriptor_limit.hpp"
#include "frontend/http_serving.hpp"
#include "frontend/output.hpp"
#include "frontend/stop_signals.hpp"
#include "frontend/project_input.hpp"
#include "frontend/status_board.hpp"

#include <tandem/docker_runtime.hpp>
#include <tandem/plan.hpp>
#include <tandem/control.hpp>
#include <tandem/engine.hpp>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <thread>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <condition_variable>
#include <stop_token>
#include <sys/ioctl.h>
#include <unistd.h>

namespace tandem::cli {

namespace {

// Shows runtime events through the status board: a live board on a terminal, plain lines
// elsewhere. On a terminal a ticker redraws it every second; attach() lets the board show
// the runtime's replica counts, ports and restarts (attach(nullptr) before the runtime goes).
class EventPrinter {
public:
    EventPrinter(const Spec& spec, bool terminal) : board_(service_names(spec), std::cout, board_options(terminal)) {
        if (terminal) ticker_ = std::jthread([this](std::stop_token stop) { tick_until(stop); });
    }

    void print(const RuntimeEvent& e) { board_.on_event(e); }

    void attach(const Executor* runtime) {
        std::lock_guard lock(runtime_mutex_);
        runtime_ = runtime;
    }

private:
    static std::vector<std::string> service_names(const Spec& spec) {
        std::vector<std::string> names;
        for (const auto& s : spec.services) names.push_back(s.name);
        return names;
    }

    static BoardOptions board_options(bool terminal) {
        BoardOptions options;
        options.terminal = terminal;
        options.columns = [] {
            winsize size{};
            return ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? int(size.ws_col) : 80;
        };
        return options;
    }

    void tick_until(std::stop_token stop) {
        std::mutex mutex;
        std::condition_variable_any wake;
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
            if (stop.stop_requested()) return;
            {
                std::lock_guard runtime_lock(runtime_mutex_);
                if (runtime_) board_.update(runtime_->status());
            }
            board_.tick();
        }
    }

    StatusBoard board_;
    std::mutex runtime_mutex_;
    const Executor* runtime_ = nullptr;
    std::jthread ticker_;  // last: stops before the board it draws goes
};

}  // namespace

int up_command(const Options& options, const ToolDefaults& tool) {
    auto input = load_input(options, tool);
    if (!input) return report_error(input.error(), options, tool);
    const Spec& spec = input->project.spec;
    // A container service needs the Docker daemon: when it does not answer, nothing starts, and
    // the error names the service, where its image is written and the socket.
    if (auto status = check_docker_reachable(spec); !status) return report_error(status.error(), options, tool);
    const auto dir = std::filesystem::path(options.file).parent_path();
    const auto root = std::filesystem::absolute(dir.empty() ? std::filesystem::path(".") : dir).lexically_normal();

    raise_descriptor_limit();
    // The loop thread inherits this mask, so only this thread receives the stop signals.
    const sigset_t signals = stop_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    EventPrinter printer(spec, isatty(STDOUT_FILENO) == 1);
    EventSubscribers subscribers;
    auto on_event = [&printer, &subscribers](const RuntimeEvent& e) {
        printer.print(e);
        subscribers.publish(e);
    };

    // Refusals (a bootstrap without the flag, a wildcard role) end `up` before anything starts.
    // A new engine observes nothing running (what a killed one left is stopped first).
    PlanRequest request;
    request.bootstrap = options.bootstrap;
    request.only = options.only;
    auto plan = make_plan(spec, Observed{}, input->project.policy, request);
    if (!plan) return report_error(plan.error(), options, tool);
    std::cout << format_table(*plan) << std::flush;

    EngineOptions engine_options;
    engine_options.source = DiskSource{root, true, options.only};
    engine_options.project = project_options(options, tool);
    engine_options.bootstrap = options.bootstrap;
    engine_options.on_down = [] { kill(getpid(), SIGTERM); };
    auto engine = Engine::start(std::move(engine_options), on_event);
    if (!engine) return report_error(engine.error(), options, tool);
    printer.attach(&(*engine)->executor());
    // Declared after the engine, so destroyed before it on every return path.
    const std::unique_ptr<EventPrinter, void (*)(EventPrinter*)> detach(&printer,
                                                                          [](EventPrinter* p) { p->attach(nullptr); });

    RuntimeControl& handler = (*engine)->control();
    auto server = ControlServer::start((*engine)->state_dir() / "control.sock", handler);
    if (!server) return report_error(server.error(), options, tool);
    subscribers.attach(handler);
    auto say = [&printer](const std::string& text) { printer.print(RuntimeEvent{RuntimeEventKind::state, "", text}); };
    auto http = serve_http(options, tool, handler, HttpServing{&input->project.policy, spec.roles, spec.api_port, say, say});
    if (!http) return report_error(http.error(), options, tool);
    subscribers.attach(http->api.get(), (*engine)->state_dir(), http->local_token);

    // Counted now: the thread may still be waiting when the watcher goes at shutdown.
    const auto directories = (*engine)->watched_directories();
    ReconcileLoop* loop = (*engine)->reconcile_loop();
    std::thread announce([loop, &printer, directories] {
        if (loop->wait_idle())
            printer.print(RuntimeEvent{RuntimeEventKind::state, "",
                                       fmt::format("up: watching {} directories; Ctrl+C stops everything", directories),
                                       0, false, {}});
    });

    int received = 0;
    sigwait(&signals, &received);
    printer.print(RuntimeEvent{RuntimeEventKind::state, "",
                               fmt::format("got {}, stopping (cancelling work in flight; again to kill everything now)",
                                           strsignal(received)),
                               0, false, {}});
    const SecondSignal force(signals, [&printer, &engine](int again) {
        printer.print(RuntimeEvent{RuntimeEventKind::state, "",
                                   fmt::format("got {} again, killing every replica", strsignal(again)),
                                   0, false, {}});
        (*engine)->kill_all();
    });
    subscribers.detach();
    http->api.reset();
    server->reset();
    // The watcher and the loop go first (the announcement's wait ends with the loop), then every service.
    (*engine)->stop_following();
    announce.join();
    (*engine)->executor().stop_all();
    return 0;
}

}  // namespace tandem::cli

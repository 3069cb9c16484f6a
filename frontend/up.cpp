// `up`: plans the project against what runs, carries the plan out on the process runtime,
// prints what happens (service-prefixed logs and state changes), and stops everything on
// SIGINT, SIGTERM or SIGHUP.
#include "frontend/up.hpp"

#include "frontend/event_subscribers.hpp"
#include "frontend/descriptor_limit.hpp"
#include "frontend/http_serving.hpp"
#include "frontend/output.hpp"
#include "frontend/stop_signals.hpp"
#include "frontend/project_input.hpp"
#include "frontend/status_board.hpp"

#include <tandem/plan.hpp>
#include <tandem/control.hpp>
#include <tandem/ignore.hpp>
#include <tandem/loop_control.hpp>
#include <tandem/reconcile_loop.hpp>
#include <tandem/runtime.hpp>
#include <tandem/watch.hpp>

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

    void attach(const ProcessRuntime* runtime) {
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
    const ProcessRuntime* runtime_ = nullptr;
    std::jthread ticker_;  // last: stops before the board it draws goes
};

}  // namespace

int up_command(const Options& options, const ToolDefaults& tool) {
    auto input = load_input(options, tool);
    if (!input) return report_error(input.error(), options, tool);
    const Spec& spec = input->project.spec;
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
    RuntimeOptions runtime_options;
    runtime_options.project_root = root;
    runtime_options.state_dir = root / ".tandem";
    auto runtime = ProcessRuntime::start(runtime_options, on_event);
    if (!runtime) return report_error(runtime.error(), options, tool);
    printer.attach(runtime->get());
    // Declared after the runtime, so destroyed before it on every return path.
    const std::unique_ptr<EventPrinter, void (*)(EventPrinter*)> detach(&printer,
                                                                          [](EventPrinter* p) { p->attach(nullptr); });

    // Refusals (a bootstrap without the flag, a wildcard role) end `up` before anything starts.
    PlanRequest request;
    request.bootstrap = options.bootstrap;
    request.only = options.only;
    auto plan = make_plan(spec, (*runtime)->observe(), input->project.policy, request);
    if (!plan) return report_error(plan.error(), options, tool);
    std::cout << format_table(*plan) << std::flush;

    ReconcileLoop::Options loop_options;
    loop_options.root = root;
    loop_options.project.config_path = std::filesystem::path(options.file).filename().string();
    loop_options.project.policy = options.policy;
    loop_options.project.default_policy = tool.default_policy;
    loop_options.only = options.only;
    loop_options.bootstrap = options.bootstrap;
    auto loop = ReconcileLoop::start(loop_options, **runtime, on_event);
    if (!loop) return report_error(loop.error(), options, tool);

    auto rules = IgnoreRules::load(root);
    if (!rules) return report_error(rules.error(), options, tool);
    auto watcher = DiskWatcher::start(
        *rules, [&loop](std::vector<std::string> paths) { (*loop)->changed(std::move(paths)); },
        [&printer](const Error& problem) {
            printer.print(RuntimeEvent{RuntimeEventKind::failure, "", problem.to_string(), 0, true, {}});
        });
    if (!watcher) return report_error(watcher.error(), options, tool);

    LoopControl handler(**runtime, **loop, [] { kill(getpid(), SIGTERM); });
    auto server = ControlServer::start(runtime_options.state_dir / "control.sock", handler);
    if (!server) return report_error(server.error(), options, tool);
    subscribers.attach(handler);
    auto say = [&printer](const std::string& text) { printer.print(RuntimeEvent{RuntimeEventKind::state, "", text}); };
    auto http = serve_http(options, tool, handler, HttpServing{&input->project.policy, spec.roles, spec.api_port, say, say});
    if (!http) return report_error(http.error(), options, tool);
    subscribers.attach(http->api.get(), runtime_options.state_dir, http->local_token);

    // Counted now: the thread may still be waiting when the watcher goes at shutdown.
    const auto directories = (*watcher)->stats().directories;
    std::thread announce([&loop, &printer, directories] {
        if ((*loop)->wait_idle())
            printer.print(RuntimeEvent{RuntimeEventKind::state, "",
                                       "up: watching " + std::to_string(directories) +
                                           " directories; Ctrl+C stops everything",
                                       0, false, {}});
    });

    int received = 0;
    sigwait(&signals, &received);
    printer.print(RuntimeEvent{RuntimeEventKind::state, "",
                               std::string("got ") + strsignal(received) +
                                   ", stopping (cancelling work in flight; again to kill everything now)",
                               0, false, {}});
    const SecondSignal force(signals, [&printer, &runtime](int again) {
        printer.print(RuntimeEvent{RuntimeEventKind::state, "",
                                   std::string("got ") + strsignal(again) + " again, killing every replica", 0,
                                   false, {}});
        (*runtime)->kill_all();
    });
    subscribers.detach();
    http->api.reset();
    server->reset();
    watcher->reset();
    loop->reset();
    announce.join();
    (*runtime)->stop_all();
    return 0;
}

}  // namespace tandem::cli

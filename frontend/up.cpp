// `up`: plans the project against what runs, carries the plan out on the process runtime,
// prints what happens (service-prefixed logs and state changes), and stops everything on
// SIGINT, SIGTERM or SIGHUP.
#include "frontend/up.hpp"

#include "frontend/output.hpp"
#include "frontend/project_input.hpp"

#include <tandem/plan.hpp>
#include <tandem/runtime.hpp>

#include <array>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <unistd.h>

namespace tandem::cli {

namespace {

// Prints runtime events as "api    | text", coloured per service on a terminal.
class EventPrinter {
public:
    EventPrinter(const Spec& spec, bool colour) : colour_(colour) {
        for (const auto& s : spec.services) width_ = std::max(width_, s.name.size());
        std::size_t i = 0;
        for (const auto& s : spec.services) colours_[s.name] = kPalette[i++ % kPalette.size()];
    }

    void print(const RuntimeEvent& e) {
        std::lock_guard lock(mutex_);
        std::string name = e.service.empty() ? "tandem" : e.service;
        if (e.replica > 0 && e.kind == RuntimeEventKind::log) name += "[" + std::to_string(e.replica) + "]";
        std::string prefix = name + std::string(width_ + 5 > name.size() ? width_ + 5 - name.size() : 1, ' ') + "| ";
        const char* marker = "";
        if (e.kind == RuntimeEventKind::crash) marker = "crashed: ";
        else if (e.kind == RuntimeEventKind::failure) marker = "error: ";
        else if (e.kind != RuntimeEventKind::log) marker = "» ";
        if (colour_) {
            auto it = colours_.find(e.service);
            const char* c = it == colours_.end() ? "\033[1m" : it->second;
            const bool bad = e.kind == RuntimeEventKind::crash || e.kind == RuntimeEventKind::failure;
            std::cout << c << prefix << "\033[0m" << (bad ? "\033[31m" : "") << marker << e.text
                      << (bad ? "\033[0m" : "") << "\n";
        } else {
            std::cout << prefix << marker << e.text << "\n";
        }
        std::cout.flush();
    }

private:
    static constexpr std::array<const char*, 6> kPalette{"\033[36m", "\033[35m", "\033[33m",
                                                         "\033[32m", "\033[34m", "\033[96m"};
    bool colour_;
    std::size_t width_ = 6;
    std::map<std::string, const char*> colours_;
    std::mutex mutex_;
};

sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

int up_command(const Options& options, const ToolDefaults& tool) {
    if (options.source == SourceKind::git)
        return report_error(make_error(ErrorCode::usage, "up runs the project's files on disk: add --source disk"),
                            options, tool);
    auto input = load_input(options, tool);
    if (!input) return report_error(input.error(), options, tool);
    const Spec& spec = input->project.spec;
    const auto dir = std::filesystem::path(options.file).parent_path();
    const auto root = std::filesystem::absolute(dir.empty() ? std::filesystem::path(".") : dir).lexically_normal();

    // The loop thread inherits this mask, so only this thread receives the stop signals.
    const sigset_t signals = stop_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    EventPrinter printer(spec, isatty(STDOUT_FILENO) == 1);
    RuntimeOptions runtime_options;
    runtime_options.project_root = root;
    runtime_options.state_dir = root / ".tandem";
    auto runtime = ProcessRuntime::start(runtime_options, [&printer](const RuntimeEvent& e) { printer.print(e); });
    if (!runtime) return report_error(runtime.error(), options, tool);

    PlanRequest request;
    request.bootstrap = options.bootstrap;
    request.only = options.only;
    auto plan = make_plan(spec, (*runtime)->observe(), input->project.policy, request);
    if (!plan) return report_error(plan.error(), options, tool);
    std::cout << format_table(*plan) << std::flush;

    if (auto applied = (*runtime)->apply(spec, input->project.policy, *plan); !applied)
        printer.print(RuntimeEvent{RuntimeEventKind::failure, "", applied.error().message, 0, true, {}});
    else
        printer.print(RuntimeEvent{RuntimeEventKind::state, "", "up: every service is running; Ctrl+C stops them",
                                   0, false, {}});

    int received = 0;
    sigwait(&signals, &received);
    printer.print(RuntimeEvent{RuntimeEventKind::state, "", std::string("got ") + strsignal(received) + ", stopping",
                               0, false, {}});
    (*runtime)->stop_all();
    return 0;
}

}  // namespace tandem::cli

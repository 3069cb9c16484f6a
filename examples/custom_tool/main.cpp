// plan-report: a program of your own on the tandem library, without devloop or shipper.
//
//   plan-report PROJECT_DIR [POLICY]         prints the plan that would bring the project up from nothing
//   plan-report --run PROJECT_DIR [POLICY]   runs it: an engine on the project's files (the process
//                                            runtime, a reconcile loop, a watcher) until Ctrl+C
#include <tandem/engine.hpp>
#include <tandem/plan.hpp>
#include <tandem/project.hpp>

#include <csignal>
#include <iostream>
#include <string>

namespace {

int usage() {
    std::cerr << "usage: plan-report [--run] PROJECT_DIR [POLICY]\n";
    return 2;
}

int report(const tandem::Project& project) {
    tandem::PlanRequest request;
    request.bootstrap = true;  // nothing runs yet: ask for the whole bring-up
    auto plan = tandem::make_plan(project.spec, tandem::Observed{}, project.policy, request);
    if (!plan) {
        std::cerr << "plan-report: " << plan.error().to_string() << "\n";
        return 1;
    }
    std::cout << "project " << project.spec.project << ": " << project.spec.services.size() << " services, "
              << plan->action_count() << " actions in " << plan->waves.size() << " waves\n"
              << tandem::format_table(*plan);
    return 0;
}

// An engine on the project's files until SIGINT or SIGTERM; every event printed as a line.
int run(const std::string& dir, const tandem::ProjectOptions& project) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // the engine's threads inherit the mask

    tandem::EngineOptions options;
    options.source = tandem::DiskSource{std::filesystem::absolute(dir).lexically_normal()};
    options.project = project;
    options.bootstrap = true;
    auto engine = tandem::Engine::start(std::move(options), [](const tandem::RuntimeEvent& e) {
        std::cout << (e.kind == tandem::RuntimeEventKind::log ? tandem::format_log_line(e) : e.service + ": " + e.text)
                  << "\n" << std::flush;
    });
    if (!engine) {
        std::cerr << "plan-report: " << engine.error().to_string() << "\n";
        return 1;
    }
    int signal = 0;
    sigwait(&stop, &signal);
    return 0;  // the engine stops every service as it goes
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    const bool running = !args.empty() && args.front() == "--run";
    if (running) args.erase(args.begin());
    if (args.empty() || args.size() > 2) return usage();
    tandem::ProjectOptions options;
    options.default_policy = "wip";  // unless tandem.yaml names one with `policy:`
    if (args.size() == 2) options.policy = args[1];
    if (running) return run(args[0], options);

    auto project = tandem::load_project(args[0], options);
    if (!project) {
        std::cerr << "plan-report: " << project.error().to_string() << "\n";
        return 1;
    }
    return report(*project);
}

// Engine: the executor, the loop its source needs, the watcher of a disk source and the
// control handler, started in that order and stopped in the reverse one.
#include <tandem/engine.hpp>

#include "engine/repository_name.hpp"

#include <tandem/docker_runtime.hpp>
#include <tandem/ignore.hpp>
#include <tandem/loop_control.hpp>
#include <tandem/release_control.hpp>
#include <tandem/watch.hpp>

#include <atomic>

namespace tandem {

namespace {

using detail::repository_name;

std::string directory_name(const std::filesystem::path& dir) {
    std::error_code ec;
    auto absolute = std::filesystem::absolute(dir, ec).lexically_normal();
    if (!absolute.has_filename() && absolute.has_relative_path()) absolute = absolute.parent_path();
    return absolute.filename().string();
}

std::function<void()> down_handler(const EngineOptions& options) {
    if (options.on_down) return options.on_down;
    return [] {};
}

}  // namespace

struct Engine::State {
    EventHandler on_event;
    std::filesystem::path state_dir;
    std::atomic<ReleaseLoop*> auditing{nullptr};  // a release loop audits the supervisor's crash restarts
    std::unique_ptr<Executor> executor;
    std::unique_ptr<ReconcileLoop> reconcile;
    std::unique_ptr<ReleaseLoop> release;
    std::optional<IgnoreRules> rules;
    std::unique_ptr<DiskWatcher> watcher;
    std::unique_ptr<RuntimeControl> control;

    void runtime_event(const RuntimeEvent& e) {
        if (on_event) on_event(e);
        if (ReleaseLoop* loop = auditing.load()) loop->runtime_event(e);
    }
    Status start_disk(const DiskSource& source, const EngineOptions& options);
    Status start_git(const GitSource& source, const EngineOptions& options);
};

Status Engine::State::start_disk(const DiskSource& source, const EngineOptions& options) {
    ReconcileLoop::Options loop_options;
    loop_options.root = source.root;
    loop_options.project = options.project;
    loop_options.only = source.only;
    loop_options.bootstrap = options.bootstrap;
    auto loop = ReconcileLoop::start(loop_options, *executor, on_event);
    if (!loop) return loop.error();
    reconcile = std::move(*loop);
    if (source.watch) {
        auto loaded = IgnoreRules::load(source.root);
        if (!loaded) return loaded.error();
        rules.emplace(std::move(*loaded));
        ReconcileLoop* target = reconcile.get();
        auto watching = DiskWatcher::start(
            *rules, [target](std::vector<std::string> paths) { target->changed(std::move(paths)); },
            [this](const Error& problem) {
                if (on_event) on_event(RuntimeEvent{RuntimeEventKind::failure, "", problem.to_string(), 0, true, {}});
            });
        if (!watching) return watching.error();
        watcher = std::move(*watching);
    }
    control = std::make_unique<LoopControl>(*executor, *reconcile, down_handler(options));
    return Ok{};
}

Status Engine::State::start_git(const GitSource& given, const EngineOptions& options) {
    GitSource source = given;
    if (!source.image_builder) {
        DockerRuntimeOptions docker;
        docker.project = repository_name(source.repository);
        docker.state_dir = source.state_dir / "runtime";
        source.image_builder = [docker](std::function<void(const RuntimeEvent&)> emit) {
            return make_image_builder(docker, std::move(emit));
        };
    }
    auto loop = ReleaseLoop::start(source, *executor, on_event);
    if (!loop) return loop.error();
    release = std::move(*loop);
    auditing = release.get();
    control = std::make_unique<ReleaseControl>(*executor, *release, down_handler(options));
    return Ok{};
}


Result<std::unique_ptr<Engine>> Engine::start(EngineOptions options, EventHandler on_event) {
    auto state = std::make_unique<State>();
    state->on_event = std::move(on_event);
    const auto* disk = std::get_if<DiskSource>(&options.source);
    const auto* git = std::get_if<GitSource>(&options.source);
    state->state_dir = !options.state_dir.empty() ? options.state_dir
                       : disk                     ? disk->root / ".tandem"
                                                  : git->state_dir;
    ExecutorOptions executor_options;
    // Shipper's replicas run from release directories; the root is where the rest would run.
    executor_options.project_root = disk ? disk->root : git->state_dir / "releases";
    executor_options.state_dir = disk ? state->state_dir : git->state_dir / "runtime";
    executor_options.project_name = disk ? directory_name(disk->root) : repository_name(git->repository);
    State* raw = state.get();
    auto handler = [raw](const RuntimeEvent& e) { raw->runtime_event(e); };
    auto executor = options.runtime ? Executor::start(options.runtime(), executor_options, handler)
                                    : Executor::start(executor_options, handler);
    if (!executor) return executor.error();
    state->executor = std::move(*executor);
    auto started = disk ? state->start_disk(*disk, options) : state->start_git(*git, options);
    if (!started) return started.error();  // ~State stops what did start
    return std::unique_ptr<Engine>(new Engine(std::move(state)));
}

Engine::Engine(std::unique_ptr<State> state) : state_(std::move(state)) {}

Engine::~Engine() {
    state_->control.reset();
    stop_following();
    if (state_->executor) state_->executor->stop_all();
}

void Engine::stop_following() {
    state_->watcher.reset();
    state_->auditing = nullptr;
    state_->reconcile.reset();
    state_->release.reset();
}

Executor& Engine::executor() { return *state_->executor; }
RuntimeControl& Engine::control() { return *state_->control; }
ReconcileLoop* Engine::reconcile_loop() { return state_->reconcile.get(); }
ReleaseLoop* Engine::release_loop() { return state_->release.get(); }
const std::filesystem::path& Engine::state_dir() const { return state_->state_dir; }
std::size_t Engine::watched_directories() const { return state_->watcher ? state_->watcher->stats().directories : 0; }
void Engine::kill_all() { state_->executor->kill_all(); }

}  // namespace tandem

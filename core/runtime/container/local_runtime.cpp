// The default runtime of both front-ends and of Executor::start: the process runtime and the
// Docker runtime on one loop. Here, in the one folder that knows both, so that the executor's
// own folder knows no runtime but the interface.
#include "runtime/container/blocking_docker.hpp"
#include "runtime/container/docker_runtime.hpp"
#include "runtime/container/image_builder.hpp"
#include "runtime/process/process_runtime.hpp"

#include <tandem/docker_runtime.hpp>
#include <tandem/executor.hpp>
#include <tandem/per_service_runtime.hpp>

#include <fmt/format.h>

namespace tandem {

Result<std::unique_ptr<Runtime>> make_local_runtime(const ProcessRuntimeOptions& process,
                                                    const DockerRuntimeOptions& docker) {
    auto processes = std::make_unique<process::ProcessRuntime>(process);
    DockerRuntimeOptions options = docker;
    if (options.state_dir.empty()) options.state_dir = process.state_dir;
    auto containers = std::make_unique<container::DockerRuntime>(processes->asio_loop(), options);
    auto both = PerServiceRuntime::make(std::move(processes), std::move(containers));
    if (!both) return both.error();
    return std::unique_ptr<Runtime>(std::move(*both));
}

std::unique_ptr<Builder> make_image_builder(const DockerRuntimeOptions& options,
                                            std::function<void(const RuntimeEvent&)> on_event) {
    return std::make_unique<container::ImageBuilder>(options, std::move(on_event));
}

Status check_docker_reachable(const Spec& spec, const std::string& socket_path) {
    const ServiceSpec* first = nullptr;
    for (const ServiceSpec& service : spec.services)
        if (service.runs_container() && !first) first = &service;
    if (!first) return Ok{};
    container::BlockingDocker docker(socket_path);
    auto pinged = docker.call<Ok>([](docker::DockerClient& c, auto done) { c.ping(done); }, std::chrono::seconds(5));
    if (pinged) return Ok{};
    return make_error(ErrorCode::unavailable,
                      fmt::format("service '{}' runs in a container, and the Docker daemon at {} does not answer: {}",
                                  first->name, docker.client().socket_path(), pinged.error().message),
                      first->container->location);
}

Result<std::unique_ptr<Executor>> Executor::start(const ExecutorOptions& options, EventHandler on_event) {
    ProcessRuntimeOptions process;
    process.state_dir = options.state_dir;
    DockerRuntimeOptions docker;
    docker.state_dir = options.state_dir;
    docker.project = !options.project_name.empty() ? options.project_name : options.project_root.filename().string();
    auto runtime = make_local_runtime(process, docker);
    if (!runtime) return runtime.error();
    return start(std::move(*runtime), options, std::move(on_event));
}

}  // namespace tandem

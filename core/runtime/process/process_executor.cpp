// Executor::start over the process runtime, the embedded default: here, beside the runtime it
// makes, so that the executor's own folder knows no runtime but the interface.
#include <tandem/executor.hpp>
#include <tandem/per_service_runtime.hpp>
#include <tandem/process_runtime.hpp>

namespace tandem {

Result<std::unique_ptr<Executor>> Executor::start(const ExecutorOptions& options, EventHandler on_event) {
    ProcessRuntimeOptions process;
    process.state_dir = options.state_dir;
    // No container runtime in this build yet: a container service is refused, naming it and its image.
    auto runtime = PerServiceRuntime::make(make_process_runtime(process), nullptr);
    if (!runtime) return runtime.error();
    return start(std::move(*runtime), options, std::move(on_event));
}

}  // namespace tandem

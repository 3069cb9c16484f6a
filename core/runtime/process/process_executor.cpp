// Executor::start over the process runtime, the embedded default: here, beside the runtime it
// makes, so that the executor's own folder knows no runtime but the interface.
#include <tandem/executor.hpp>
#include <tandem/process_runtime.hpp>

namespace tandem {

Result<std::unique_ptr<Executor>> Executor::start(const ExecutorOptions& options, EventHandler on_event) {
    ProcessRuntimeOptions process;
    process.state_dir = options.state_dir;
    return start(make_process_runtime(process), options, std::move(on_event));
}

}  // namespace tandem

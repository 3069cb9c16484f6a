// The process runtime: the embedded default. Replicas are local processes, each the leader of
// its own process group, behind a TCP proxy per service port on 127.0.0.1; commands (builds,
// run actions, resets) are processes too, builds optionally in a bubblewrap sandbox. What it
// starts is recorded in `<state_dir>/replicas.json`, so that the next start after a killed
// engine stops the leftovers before anything runs twice.
#pragma once

#include <tandem/runtime.hpp>

#include <filesystem>
#include <memory>

namespace tandem {

struct ProcessRuntimeOptions {
    std::filesystem::path state_dir;  // where replicas.json lives (created if missing)
    Duration leftover_grace{5000};    // SIGTERM to SIGKILL, for what a killed engine left
};

// The runtime's event loop runs on a thread of its own from open() until it is destroyed.
std::unique_ptr<Runtime> make_process_runtime(const ProcessRuntimeOptions& options);

}  // namespace tandem

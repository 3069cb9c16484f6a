// The sandbox of a build under `builds.sandbox`: bubblewrap (`bwrap`, Debian's bubblewrap)
// around the build's command, with the whole filesystem read-only except the build directory
// and a private /tmp, no network unless the service's `build.network` allows it, no
// capabilities, and its own pid namespace, so that nothing the build starts outlives it.
#pragma once

#include "runtime/process/child_process.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace tandem::process {

// The program run as the sandbox, looked up in PATH.
inline constexpr const char* kSandboxProgram = "bwrap";

struct SandboxRules {
    std::filesystem::path writable;  // the build directory: the only place it may write (and /tmp)
    std::filesystem::path cwd;       // where the command starts, inside `writable`
    bool network = false;            // `build.network: true`: the host's network stays
};

// `argv` wrapped in the sandbox: `bwrap <rules> -- argv...`.
std::vector<std::string> sandboxed_argv(const std::vector<std::string>& argv, const SandboxRules& rules);

// The error when the sandbox could not be started (`bwrap` missing: spawn_error) or made
// (`bwrap` exited with `status`, saying why in `stderr_lines`): the build did not run, and is
// never run outside it.
Error sandbox_unavailable(const std::string& service, const Error& spawn_error);
Error sandbox_failed(const std::string& service, const ExitStatus& status, const std::vector<std::string>& stderr_lines);

}  // namespace tandem::process

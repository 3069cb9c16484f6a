// Building the bubblewrap command line of a sandboxed build, and the errors when it cannot run.
#include "runtime/process/build_sandbox.hpp"

namespace tandem::process {

namespace {

constexpr const char* kRemedy =
    "; install the Debian package bubblewrap (scripts/install-deps.sh does), or turn the policy knob "
    "builds.sandbox off";

}  // namespace

std::vector<std::string> sandboxed_argv(const std::vector<std::string>& argv, const SandboxRules& rules) {
    const std::string writable = rules.writable.string();
    std::vector<std::string> out = {kSandboxProgram,
                                    "--die-with-parent",  // the engine gone, the build goes
                                    "--unshare-all"};     // user (if it can), pid, net, ipc, uts, cgroup
    if (rules.network) out.push_back("--share-net");
    // Without this, a build run by root keeps CAP_SYS_ADMIN and could remount / read-write.
    out.insert(out.end(), {"--cap-drop", "ALL", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                           // /tmp first: the build directory may lie under it.
                           "--tmpfs", "/tmp", "--bind", writable, writable, "--chdir", rules.cwd.string(), "--"});
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

Error sandbox_unavailable(const std::string& service, const Error& spawn_error) {
    return make_error(ErrorCode::io, "the build of '" + service + "' did not run: builds.sandbox is on, but its sandbox "
                                         "cannot be started (" + spawn_error.message + ")" + kRemedy);
}

Error sandbox_failed(const std::string& service, const ExitStatus& status, const std::vector<std::string>& stderr_lines) {
    std::string why;
    for (const auto& line : stderr_lines) why += (why.empty() ? "" : "; ") + line;
    if (why.empty()) why = std::string(kSandboxProgram) + " " + status.describe();
    return make_error(ErrorCode::io, "the build of '" + service + "' did not run: builds.sandbox is on, but "
                                         "bubblewrap cannot make its sandbox here (" + why +
                                         "): it needs user namespaces, or root with CAP_SYS_ADMIN" + kRemedy);
}

}  // namespace tandem::process

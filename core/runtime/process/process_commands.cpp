// The process runtime's commands: builds, run actions and resets, each its own process group
// that dies with the engine, recorded like replicas so that a killed engine's next start stops
// it; a build under builds.sandbox runs in bubblewrap, its sandbox tried around /bin/true first.
#include "runtime/process/build_sandbox.hpp"
#include "runtime/process/process_runtime.hpp"

namespace tandem::process {

Result<int> ProcessRuntime::run_command(const CommandLaunch& command, OutputHandler output, CommandHandler finished) {
    LaunchSpec launch;
    launch.argv = command.argv;
    launch.cwd = command.cwd;
    launch.env = command.env;
    if (!command.user.empty()) {
        auto user = find_system_user(command.user);
        if (!user) return user.error();
        launch.user = std::move(*user);
    }
    launch.die_with_engine = true;  // a replica outlives the engine until the next start; a command need not
    const int id = next_command_++;
    if (command.sandbox) spawn_sandboxed(id, std::move(launch), command, std::move(output), std::move(finished));
    else spawn_command(id, std::move(launch), command.service, command.kind, std::move(output), std::move(finished));
    return id;
}

// First the sandbox alone around /bin/true: when bubblewrap cannot make it here, the build
// fails with bwrap's reason, and never runs outside it.
void ProcessRuntime::spawn_sandboxed(int id, LaunchSpec launch, const CommandLaunch& command, OutputHandler output,
                                     CommandHandler finished) {
    SandboxRules rules;
    rules.writable = command.sandbox->writable;
    rules.cwd = command.cwd;
    rules.network = command.sandbox->network;
    LaunchSpec check = launch;
    check.argv = sandboxed_argv({"/bin/true"}, rules);
    auto reasons = std::make_shared<std::vector<std::string>>();
    auto on_line = [reasons](LogStream stream, std::string_view text) {
        if (stream == LogStream::err && reasons->size() < 4) reasons->emplace_back(text);
    };
    const std::string service = command.service;
    const ActionKind kind = command.kind;
    auto on_exit = [this, id, launch, rules, reasons, service, kind, output, finished](ExitStatus status) mutable {
        const bool killed = commands_.count(id) && commands_[id].killed;
        commands_.erase(id);
        if (killed) return finished(status);
        if (!status.clean()) return finished(sandbox_failed(service, status, *reasons));
        launch.argv = sandboxed_argv(launch.argv, rules);
        spawn_command(id, std::move(launch), service, kind, std::move(output), std::move(finished));
    };
    auto child = ChildProcess::spawn(loop_.io(), check, on_line, on_exit);
    if (!child) {
        loop_.post([finished, error = sandbox_unavailable(command.service, child.error())] { finished(error); });
        return;
    }
    commands_[id] = Command{*child, ReplicaRecord{}, false};
}

void ProcessRuntime::spawn_command(int id, LaunchSpec launch, const std::string& service, ActionKind kind,
                                   OutputHandler output, CommandHandler finished) {
    auto on_exit = [this, id, finished](ExitStatus status) {
        command_ended(id);
        finished(status);
    };
    auto child = ChildProcess::spawn(loop_.io(), launch, std::move(output), on_exit);
    if (!child) {
        loop_.post([finished, error = child.error()] { finished(error); });
        return;
    }
    const pid_t pid = (*child)->pid();
    ReplicaRecord record;
    record.service = service;
    record.pid = pid;
    record.start_ticks = process_start_ticks(pid);
    record.kind = to_string(kind);
    commands_[id] = Command{*child, record, false};
    persist();
}

void ProcessRuntime::command_ended(int id) {
    if (commands_.erase(id) > 0) persist();
}

// Killed now, with its group; a sandbox check under way starts nothing after it.
void ProcessRuntime::kill_command(int id) {
    auto it = commands_.find(id);
    if (it == commands_.end()) return;
    it->second.killed = true;
    if (it->second.child->running()) it->second.child->kill();
}

}  // namespace tandem::process

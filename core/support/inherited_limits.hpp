// The descriptor limit the program was started with. The front-ends raise their soft
// RLIMIT_NOFILE to the hard one (room for clients, logs and proxied connections); the programs
// the engine starts (replicas, builds, commands, exec probes) get the started-with limit back,
// as they would from a shell: a program that still uses select() breaks on a descriptor past 1024.
#pragma once

namespace tandem {

// Lowers the calling process's soft RLIMIT_NOFILE to the one the program started with, when it
// was raised since. Async-signal-safe: called in a forked child before exec.
void restore_inherited_descriptor_limit() noexcept;

}  // namespace tandem

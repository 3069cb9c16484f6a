// Running a helper program (ssh-keygen, git fetch) to completion without a shell: its input
// from memory, its output captured; optionally with extra environment and a deadline.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::detail {

struct ProgramOutput {
    int start_error = 0;  // errno when it could not be run (ENOENT: not found on PATH); 0 when it ran
    int exit_code = -1;   // its exit status, or 128 + the signal that killed it
    bool timed_out = false;  // it outlived the deadline and was killed (its whole process group)
    std::string out;
    std::string err;
};

// Runs argv (argv[0] looked up in PATH) with `input` on its stdin and waits for it to exit.
ProgramOutput run_program(const std::vector<std::string>& argv, std::string_view input = {});

struct ProgramLimits {
    std::vector<std::string> environment;             // "NAME=value" added to (or replacing in) ours
    std::optional<std::chrono::milliseconds> timeout;  // then SIGKILL to its process group
};

// The same, in a process group of its own, with `limits`.
ProgramOutput run_program(const std::vector<std::string>& argv, std::string_view input, const ProgramLimits& limits);

}  // namespace tandem::detail

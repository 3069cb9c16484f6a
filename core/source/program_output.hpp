// Running a helper program (ssh-keygen) to completion without a shell: its input from memory,
// its output captured.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tandem::detail {

struct ProgramOutput {
    int start_error = 0;  // errno when it could not be run (ENOENT: not found on PATH); 0 when it ran
    int exit_code = -1;   // its exit status, or 128 + the signal that killed it
    std::string out;
    std::string err;
};

// Runs argv (argv[0] looked up in PATH) with `input` on its stdin and waits for it to exit.
ProgramOutput run_program(const std::vector<std::string>& argv, std::string_view input = {});

}  // namespace tandem::detail

// Runs a real program for a test and captures what it printed and how it exited.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tandem::test {

struct CommandResult {
    int exit_code = -1;  // the exit status, or 128 + signal
    std::string out;
    std::string err;
};

// argv[0] is the program (a path, or a name looked up in PATH); `cwd` empty = the test's own.
CommandResult run_command(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {});

// Runs a git command in `repo` with a fixed identity, failing the test loudly if git fails.
std::string git(const std::filesystem::path& repo, const std::vector<std::string>& args);

}  // namespace tandem::test

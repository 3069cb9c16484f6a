// ssh-keygen -Y: signing and checking SSH signatures (commit signatures, audit checkpoints).
#pragma once

#include "source/program_output.hpp"

#include <tandem/error.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::detail {

// A private temporary directory, removed with everything in it.
struct ScratchDir {
    std::filesystem::path path;  // empty when it could not be made
    ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir();
};

// Runs `ssh-keygen ARGS` with `input` on stdin (at most 30 s); an error only when it could not
// be run at all, saying it is needed `for_what` ("commit signatures are checked with it").
Result<ProgramOutput> ssh_keygen(std::vector<std::string> args, std::string_view for_what, std::string_view input = {});

// The first non-blank line of `text`.
std::string first_line(const std::string& text);

// What ssh-keygen said (its first line of stderr, else of stdout, else its exit code).
std::string ssh_keygen_reason(const ProgramOutput& output);

// Writes `content` to `file`; false when it cannot.
bool write_small_file(const std::filesystem::path& file, std::string_view content);

}  // namespace tandem::detail

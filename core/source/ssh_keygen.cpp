// ssh-keygen run without a shell, for its -Y signature operations.
#include "source/ssh_keygen.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace tandem::detail {

namespace fs = std::filesystem;

namespace {

constexpr std::chrono::seconds kTimeout{30};  // a key that wants a passphrase must not hang the engine

}  // namespace

ScratchDir::ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "tandem-signature-XXXXXX").string();
    if (::mkdtemp(pattern.data())) path = pattern;
}

ScratchDir::~ScratchDir() {
    std::error_code ignored;
    if (!path.empty()) fs::remove_all(path, ignored);
}

std::string first_line(const std::string& text) {
    const std::size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return {};
    const std::size_t end = text.find_first_of("\r\n", start);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

Result<ProgramOutput> ssh_keygen(std::vector<std::string> args, std::string_view for_what, std::string_view input) {
    args.insert(args.begin(), "ssh-keygen");
    ProgramLimits limits;
    limits.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout);
    ProgramOutput output = run_program(args, input, limits);
    if (output.start_error == ENOENT)
        return make_error(
            ErrorCode::source,
            fmt::format("ssh-keygen is not installed (or not on PATH), and {}: install openssh-client", for_what));
    if (output.start_error != 0)
        return make_error(ErrorCode::source,
                          fmt::format("cannot run ssh-keygen ({}): {}", for_what, std::strerror(output.start_error)));
    if (output.timed_out)
        return make_error(
            ErrorCode::source,
            fmt::format("ssh-keygen did not finish within 30s ({}); a key with a passphrase must be in ssh-agent",
                        for_what));
    return output;
}

std::string ssh_keygen_reason(const ProgramOutput& output) {
    std::string said = first_line(output.err);
    if (said.empty()) said = first_line(output.out);
    return said.empty() ? fmt::format("ssh-keygen exited with code {}", output.exit_code) : said;
}

bool write_small_file(const fs::path& file, std::string_view content) {
    std::ofstream out(file, std::ios::binary);
    out << content;
    out.close();
    return static_cast<bool>(out);
}

}  // namespace tandem::detail

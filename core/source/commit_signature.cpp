// Commit signatures: git keeps an SSH signature in the commit's "gpgsig" header; ssh-keygen
// first names the allowed signer whose key made it, then verifies it over the signed bytes.
#include "source/commit_signature.hpp"

#include "source/libgit2.hpp"
#include "source/program_output.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace tandem::detail {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSshSignatureStart = "-----BEGIN SSH SIGNATURE-----";

// A private directory for the signature file, removed with it.
struct ScratchDir {
    fs::path path;
    ScratchDir() {
        std::string pattern = (fs::temp_directory_path() / "tandem-signature-XXXXXX").string();
        if (::mkdtemp(pattern.data())) path = pattern;
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() {
        std::error_code ignored;
        if (!path.empty()) fs::remove_all(path, ignored);
    }
};

std::string first_line(const std::string& text) {
    const std::size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return {};
    const std::size_t end = text.find_first_of("\r\n", start);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Runs ssh-keygen; an error only when it could not be run at all.
Result<ProgramOutput> ssh_keygen(std::vector<std::string> args, std::string_view input = {}) {
    args.insert(args.begin(), "ssh-keygen");
    ProgramOutput output = run_program(args, input);
    if (output.start_error == ENOENT)
        return make_error(ErrorCode::source, "ssh-keygen is not installed (or not on PATH), and commit signatures "
                                             "are checked with it: install openssh-client");
    if (output.start_error != 0)
        return make_error(ErrorCode::source, std::string("cannot run ssh-keygen to check a commit signature: ") +
                                                 std::strerror(output.start_error));
    return output;
}

// What ssh-keygen said, for an error message.
std::string reason(const ProgramOutput& output) {
    std::string said = first_line(output.err);
    if (said.empty()) said = first_line(output.out);
    return said.empty() ? "ssh-keygen exited with code " + std::to_string(output.exit_code) : said;
}

Status check_signature(const std::string& short_id, const std::string& signature, const std::string& signed_data,
                       const fs::path& allowed_signers) {
    ScratchDir scratch;
    const fs::path signature_file = scratch.path / "commit.sig";
    std::ofstream out;
    if (!scratch.path.empty()) out.open(signature_file, std::ios::binary);
    out << signature;
    out.close();
    if (scratch.path.empty() || !out)
        return make_error(ErrorCode::io, "cannot write the signature of commit " + short_id + " to a temporary file in '" +
                                             fs::temp_directory_path().string() + "' (check its space and permissions)");
    const std::string allowed = allowed_signers.string();

    auto found = ssh_keygen({"-Y", "find-principals", "-s", signature_file.string(), "-f", allowed});
    if (!found) return found.error();
    const std::string principal = first_line(found->out);
    if (found->exit_code != 0 || principal.empty())
        return make_error(ErrorCode::policy_denied, "no allowed signer made the signature of commit " + short_id +
                                                        " (allowed signers: '" + allowed + "')");

    auto verified = ssh_keygen({"-Y", "verify", "-f", allowed, "-I", principal, "-n", "git", "-s", signature_file.string()},
                               signed_data);
    if (!verified) return verified.error();
    if (verified->exit_code != 0)
        return make_error(ErrorCode::policy_denied, "the signature of commit " + short_id + " by '" + principal +
                                                        "' does not verify: " + reason(*verified));
    return Ok{};
}

}  // namespace

Status verify_commit_signature(git_repository* repo, const git_oid* commit, const fs::path& allowed_signers) {
    const std::string short_id = hex_id(commit).substr(0, 12);
    Buffer signature, signed_data;
    git_oid id = *commit;
    const int rc = git_commit_extract_signature(&signature.buf, &signed_data.buf, repo, &id, "gpgsig");
    if (rc == GIT_ENOTFOUND)
        return make_error(ErrorCode::policy_denied, "commit " + short_id + " is not signed (sign commits with an SSH key "
                                                        "listed in '" + allowed_signers.string() + "')");
    if (rc != 0)
        return make_error(ErrorCode::source, "cannot read the signature of commit " + short_id + ": " + last_git_error());
    if (signature.str().rfind(kSshSignatureStart, 0) != 0)
        return make_error(ErrorCode::policy_denied, "commit " + short_id + " has a GPG or X.509 signature; only SSH "
                                                        "signatures can be checked (sign with gpg.format=ssh)");
    std::error_code ec;
    if (!fs::is_regular_file(allowed_signers, ec))
        return make_error(ErrorCode::io, "the allowed signers file '" + allowed_signers.string() + "' does not exist "
                                         "(write one line per signer: 'PRINCIPAL KEYTYPE BASE64KEY')");
    return check_signature(short_id, signature.str(), signed_data.str(), allowed_signers);
}

}  // namespace tandem::detail

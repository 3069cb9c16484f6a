// Commit signatures: git keeps an SSH signature in the commit's "gpgsig" header; ssh-keygen
// first names the allowed signer whose key made it, then verifies it over the signed bytes.
#include "source/commit_signature.hpp"

#include "source/libgit2.hpp"
#include "source/ssh_keygen.hpp"

#include <fmt/format.h>

namespace tandem::detail {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSshSignatureStart = "-----BEGIN SSH SIGNATURE-----";
constexpr std::string_view kWhy = "commit signatures are checked with it";

Status check_signature(const std::string& short_id, const std::string& signature, const std::string& signed_data,
                       const fs::path& allowed_signers) {
    ScratchDir scratch;
    const fs::path signature_file = scratch.path / "commit.sig";
    if (scratch.path.empty() || !write_small_file(signature_file, signature))
        return make_error(
            ErrorCode::io,
            fmt::format(
                "cannot write the signature of commit {} to a temporary file in '{}' (check its space and permissions)",
                short_id, fs::temp_directory_path().string()));
    const std::string allowed = allowed_signers.string();

    auto found = ssh_keygen({"-Y", "find-principals", "-s", signature_file.string(), "-f", allowed}, kWhy);
    if (!found) return found.error();
    const std::string principal = first_line(found->out);
    if (found->exit_code != 0 || principal.empty())
        return make_error(ErrorCode::policy_denied,
                          fmt::format("no allowed signer made the signature of commit {} (allowed signers: '{}')",
                                      short_id, allowed));

    auto verified = ssh_keygen({"-Y", "verify", "-f", allowed, "-I", principal, "-n", "git", "-s", signature_file.string()},
                               kWhy, signed_data);
    if (!verified) return verified.error();
    if (verified->exit_code != 0)
        return make_error(ErrorCode::policy_denied,
                          fmt::format("the signature of commit {} by '{}' does not verify: {}", short_id, principal,
                                      ssh_keygen_reason(*verified)));
    return Ok{};
}

}  // namespace

Status verify_commit_signature(git_repository* repo, const git_oid* commit, const fs::path& allowed_signers) {
    const std::string short_id = hex_id(commit).substr(0, 12);
    Buffer signature, signed_data;
    git_oid id = *commit;
    const int rc = git_commit_extract_signature(&signature.buf, &signed_data.buf, repo, &id, "gpgsig");
    if (rc == GIT_ENOTFOUND)
        return make_error(ErrorCode::policy_denied,
                          fmt::format("commit {} is not signed (sign commits with an SSH key listed in '{}')", short_id,
                                      allowed_signers.string()));
    if (rc != 0)
        return make_error(ErrorCode::source,
                          fmt::format("cannot read the signature of commit {}: {}", short_id, last_git_error()));
    if (signature.str().rfind(kSshSignatureStart, 0) != 0)
        return make_error(
            ErrorCode::policy_denied,
            fmt::format(
                "commit {} has a GPG or X.509 signature; only SSH signatures can be checked (sign with gpg.format=ssh)",
                short_id));
    std::error_code ec;
    if (!fs::is_regular_file(allowed_signers, ec))
        return make_error(ErrorCode::io, fmt::format("the allowed signers file '{}' does not exist (write one line per "
                                                     "signer: 'PRINCIPAL KEYTYPE BASE64KEY')",
                                                     allowed_signers.string()));
    return check_signature(short_id, signature.str(), signed_data.str(), allowed_signers);
}

}  // namespace tandem::detail

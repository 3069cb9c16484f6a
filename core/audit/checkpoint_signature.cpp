// Checkpoints: their signed document, and its signature made and checked with ssh-keygen -Y.
#include "audit/checkpoint_signature.hpp"

#include "source/ssh_keygen.hpp"

#include <tandem/audit_checkpoint.hpp>
#include <tandem/utc_time.hpp>

#include <fmt/format.h>

#include <charconv>
#include <sstream>

namespace tandem {

namespace {

constexpr std::string_view kTitle = "tandem audit checkpoint";
constexpr std::string_view kWhy = "audit checkpoints are signed and checked with it";

}  // namespace

std::string AuditCheckpoint::document() const {
    return fmt::format("{}\nlog {}\nseq {}\nhash {}\ntime {}\n", kTitle, log, seq, hash, format_utc(time));
}

Result<AuditCheckpoint> AuditCheckpoint::parse(const std::string& document) {
    std::istringstream in(document);
    std::string line;
    if (!std::getline(in, line) || line != kTitle)
        return make_error(ErrorCode::syntax,
                          fmt::format("not an audit checkpoint (its first line must be \"{}\")", kTitle));
    AuditCheckpoint checkpoint;
    bool seq = false, hash = false, time = false;
    while (std::getline(in, line)) {
        const auto space = line.find(' ');
        const std::string key = line.substr(0, space), value = space == std::string::npos ? "" : line.substr(space + 1);
        if (key == "log") checkpoint.log = value;
        else if (key == "seq") seq = std::from_chars(value.data(), value.data() + value.size(), checkpoint.seq).ptr ==
                                     value.data() + value.size() && !value.empty();
        else if (key == "hash") {
            checkpoint.hash = value;
            hash = value.size() == 64 && value.find_first_not_of("0123456789abcdef") == std::string::npos;
        } else if (key == "time") {
            auto parsed = parse_utc(value);
            if (parsed) checkpoint.time = *parsed;
            time = static_cast<bool>(parsed);
        }
    }
    if (!seq || !hash || !time)
        return make_error(ErrorCode::syntax, std::string("an audit checkpoint without a valid ") +
                                                 (!seq ? "seq" : !hash ? "hash (64 hex digits)" : "time"));
    return checkpoint;
}

namespace audit {

Result<std::string> sign_checkpoint(const std::filesystem::path& key, const std::string& document) {
    auto signed_ = detail::ssh_keygen({"-Y", "sign", "-q", "-f", key.string(), "-n", kAuditCheckpointNamespace}, kWhy, document);
    if (!signed_) return signed_.error();
    if (signed_->exit_code != 0 || signed_->out.find("-----BEGIN SSH SIGNATURE-----") == std::string::npos)
        return make_error(ErrorCode::io, fmt::format("cannot sign an audit checkpoint with the key '{}': {}",
                                                     key.string(), detail::ssh_keygen_reason(*signed_)));
    return signed_->out;
}

Result<std::string> check_checkpoint_signature(const std::string& document, const std::string& signature,
                                               const std::optional<std::filesystem::path>& allowed_signers) {
    detail::ScratchDir scratch;
    const auto file = scratch.path / "checkpoint.sig";
    if (scratch.path.empty() || !detail::write_small_file(file, signature))
        return make_error(ErrorCode::io,
                          fmt::format("cannot write a checkpoint's signature to a temporary file in '{}'",
                                      std::filesystem::temp_directory_path().string()));
    if (!allowed_signers) {
        auto checked = detail::ssh_keygen({"-Y", "check-novalidate", "-n", kAuditCheckpointNamespace, "-s", file.string()},
                                          kWhy, document);
        if (!checked) return checked.error();
        if (checked->exit_code != 0)
            return make_error(ErrorCode::policy_denied, "its signature does not verify: " + detail::ssh_keygen_reason(*checked));
        return std::string();
    }
    const std::string allowed = allowed_signers->string();
    auto found = detail::ssh_keygen({"-Y", "find-principals", "-s", file.string(), "-f", allowed}, kWhy);
    if (!found) return found.error();
    const std::string principal = detail::first_line(found->out);
    if (found->exit_code != 0 || principal.empty())
        return make_error(ErrorCode::policy_denied,
                          fmt::format("no allowed signer made its signature (allowed signers: '{}')", allowed));
    auto verified = detail::ssh_keygen(
        {"-Y", "verify", "-f", allowed, "-I", principal, "-n", kAuditCheckpointNamespace, "-s", file.string()}, kWhy, document);
    if (!verified) return verified.error();
    if (verified->exit_code != 0)
        return make_error(ErrorCode::policy_denied, fmt::format("its signature by '{}' does not verify: {}", principal,
                                                                detail::ssh_keygen_reason(*verified)));
    return principal;
}

}  // namespace audit
}  // namespace tandem

// A checkpoint document signed and checked with ssh-keygen -Y, namespace "tandem-audit".
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace tandem::audit {

// The armored SSH signature of `document` made with `key`.
Result<std::string> sign_checkpoint(const std::filesystem::path& key, const std::string& document);

// The principal of `allowed_signers` who made `signature` of `document`, or (without allowed
// signers) "" once the signature is checked to be a valid one of the document. A bad
// signature is a policy_denied error saying why.
Result<std::string> check_checkpoint_signature(const std::string& document, const std::string& signature,
                                               const std::optional<std::filesystem::path>& allowed_signers);

}  // namespace tandem::audit

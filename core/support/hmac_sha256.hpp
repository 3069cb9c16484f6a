// HMAC-SHA256 (RFC 2104) over Sha256, and a comparison of secrets that takes the same time
// whatever they hold: webhook signatures and API tokens.
#pragma once

#include "support/sha256.hpp"

#include <string>
#include <string_view>

namespace tandem {

Sha256::Digest hmac_sha256(std::string_view key, std::string_view message);
// The same as 64 lowercase hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// Whether `a` and `b` are equal, in a time that depends on neither their bytes nor which of
// them differ first (both are hashed first, so not on their lengths either).
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace tandem

// HMAC-SHA256: H((K ^ opad) || H((K ^ ipad) || message)), K padded (or hashed) to 64 bytes.
#include "support/hmac_sha256.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace tandem {

namespace {

constexpr std::size_t kBlockBytes = 64;

}  // namespace

Sha256::Digest hmac_sha256(std::string_view key, std::string_view message) {
    std::array<std::uint8_t, kBlockBytes> block{};
    if (key.size() > kBlockBytes) {
        const auto digest = Sha256().update(key).digest();
        std::copy(digest.begin(), digest.end(), block.begin());
    } else {
        std::copy(key.begin(), key.end(), block.begin());
    }
    std::array<std::uint8_t, kBlockBytes> inner_pad{}, outer_pad{};
    for (std::size_t i = 0; i < kBlockBytes; ++i) {
        inner_pad[i] = static_cast<std::uint8_t>(block[i] ^ 0x36);
        outer_pad[i] = static_cast<std::uint8_t>(block[i] ^ 0x5c);
    }
    const auto inner = Sha256().update(inner_pad.data(), inner_pad.size()).update(message).digest();
    return Sha256().update(outer_pad.data(), outer_pad.size()).update(inner.data(), inner.size()).digest();
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) { return to_hex(hmac_sha256(key, message)); }

bool equal_in_constant_time(std::string_view a, std::string_view b) {
    const auto left = Sha256().update(a).digest();
    const auto right = Sha256().update(b).digest();
    std::uint8_t difference = 0;
    for (std::size_t i = 0; i < left.size(); ++i) difference |= static_cast<std::uint8_t>(left[i] ^ right[i]);
    return difference == 0;
}

}  // namespace tandem

// SHA-256 (FIPS 180-4), streaming and one-shot: spec fingerprints and artifact digests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tandem {

class Sha256 {
public:
    using Digest = std::array<std::uint8_t, 32>;

    Sha256();

    // Feeds more bytes; may be called any number of times, with pieces of any size.
    Sha256& update(const void* data, std::size_t size);
    Sha256& update(std::string_view bytes) { return update(bytes.data(), bytes.size()); }

    // The digest of everything fed so far. The object is left as it was, so more bytes may
    // follow and a later call digests them all.
    Digest digest() const;
    // The same as 64 lowercase hex digits.
    std::string hex_digest() const;

private:
    void compress(const std::uint8_t* block);

    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t total_bytes_ = 0;
};

// A digest as 64 lowercase hex digits.
std::string to_hex(const Sha256::Digest& digest);

// 64 lowercase hex digits of the SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

}  // namespace tandem

// SHA-256 against the FIPS 180-4 test vectors, one-shot and streamed.
#include <doctest/doctest.h>

#include "support/sha256.hpp"

#include <string>

using namespace tandem;

TEST_CASE("sha256 matches the standard test vectors") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(std::string(1'000'000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 streamed in uneven pieces equals the one-shot digest") {
    std::string text;
    for (int i = 0; i < 1000; ++i) text += std::to_string(i * 7919) + ",";
    Sha256 streamed;
    std::size_t at = 0;
    for (std::size_t piece = 1; at < text.size(); piece = piece * 3 % 131 + 1) {
        const std::size_t take = std::min(piece, text.size() - at);
        streamed.update(text.substr(at, take));
        at += take;
    }
    CHECK(streamed.hex_digest() == sha256_hex(text));
    CHECK(streamed.hex_digest() == sha256_hex(text));  // digesting leaves the state as it was
}

TEST_CASE("sha256 keeps streaming after a digest is taken") {
    Sha256 hash;
    hash.update("ab");
    CHECK(hash.hex_digest() == sha256_hex("ab"));
    hash.update("c");
    CHECK(hash.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hash.digest()[0] == 0xba);
}

// HMAC-SHA256 against RFC 4231's test vectors, GitHub's webhook example, and the
// constant-time comparison of secrets.
#include <doctest/doctest.h>

#include "support/hmac_sha256.hpp"

#include <tandem/http_api.hpp>

#include <string>

using tandem::hmac_sha256_hex;

namespace {

std::string repeat(char byte, std::size_t count) { return std::string(count, byte); }

}  // namespace

TEST_CASE("HMAC-SHA256 gives RFC 4231's results for its test cases 1 to 4, 6 and 7") {
    CHECK(hmac_sha256_hex(repeat('\x0b', 20), "Hi There") ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(hmac_sha256_hex(repeat('\xaa', 20), repeat('\xdd', 50)) ==
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    std::string key4;
    for (char c = 1; c <= 25; ++c) key4 += c;
    CHECK(hmac_sha256_hex(key4, repeat('\xcd', 50)) ==
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    // Keys longer than SHA-256's 64-byte block are hashed first.
    CHECK(hmac_sha256_hex(repeat('\xaa', 131), "Test Using Larger Than Block-Size Key - Hash Key First") ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    CHECK(hmac_sha256_hex(repeat('\xaa', 131),
                          "This is a test using a larger than block-size key and a larger than block-size data. The "
                          "key needs to be hashed before being used by the HMAC algorithm.") ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("HMAC-SHA256 truncated to 128 bits matches RFC 4231's test case 5") {
    CHECK(hmac_sha256_hex(repeat('\x0c', 20), "Test With Truncation").substr(0, 32) == "a3b6167473100ee06e0c796c2955552b");
}

TEST_CASE("hub_signature signs a body the way GitHub's X-Hub-Signature-256 does") {
    CHECK(tandem::hub_signature("It's a Secret to Everybody", "Hello, World!") ==
          "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST_CASE("equal_in_constant_time tells equal secrets from different ones of any length") {
    CHECK(tandem::equal_in_constant_time("s3cret", "s3cret"));
    CHECK(tandem::equal_in_constant_time("", ""));
    CHECK_FALSE(tandem::equal_in_constant_time("s3cret", "s3creT"));
    CHECK_FALSE(tandem::equal_in_constant_time("s3cret", "s3cret!"));
    CHECK_FALSE(tandem::equal_in_constant_time("", "x"));
}

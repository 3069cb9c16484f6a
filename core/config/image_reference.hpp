// Image references as Docker reads them: `[HOST[:PORT]/]PATH[:TAG][@sha256:HEX]`.
#pragma once

#include <tandem/error.hpp>

#include <string>
#include <string_view>

namespace tandem::config {

struct ImageReference {
    std::string name;    // "registry.local:5000/team/api", "busybox"
    std::string tag;     // "1.36", or empty
    std::string digest;  // "sha256:<64 hex>", or empty
};

// `text` split into its parts, or an invalid_value error whose message says what is wrong
// ("'Web' has an upper-case letter in its path"); the caller adds where it was written.
Result<ImageReference> parse_image_reference(std::string_view text);

}  // namespace tandem::config

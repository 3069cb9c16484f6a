// Docker's reference grammar (distribution/reference): lower-case path components joined by
// '/', separators '.', '_', '__' or dashes, an optional registry host first, a tag of word
// characters, dots and dashes (at most 128), a sha256 digest of 64 lower-case hex digits.
#include "config/image_reference.hpp"

#include <fmt/format.h>

namespace tandem::config {

namespace {

constexpr std::size_t kMaxNameLength = 255;
constexpr std::size_t kMaxTagLength = 128;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

Error bad(std::string_view text, const std::string& why) {
    return make_error(ErrorCode::invalid_value, fmt::format("'{}' is not an image reference: {}", text, why));
}

// alpha-numeric (separator alpha-numeric)*, separator: '.', '_', '__' or one or more '-'.
bool is_path_component(std::string_view part) {
    std::size_t i = 0;
    while (i < part.size()) {
        if (!is_lower_alnum(part[i])) return false;
        while (i < part.size() && is_lower_alnum(part[i])) ++i;
        if (i == part.size()) return true;
        const std::size_t start = i;
        while (i < part.size() && !is_lower_alnum(part[i])) ++i;
        const std::string_view separator = part.substr(start, i - start);
        const bool dashes = separator.find_first_not_of('-') == std::string_view::npos;
        if (!(separator == "." || separator == "_" || separator == "__" || dashes)) return false;
        if (i == part.size()) return false;  // a separator at the end
    }
    return !part.empty();
}

// host ('.' host-part)* (':' port)?; each host part alphanumeric, dashes inside only.
bool is_domain(std::string_view domain) {
    const std::size_t colon = domain.find(':');
    std::string_view host = domain.substr(0, colon);
    if (colon != std::string_view::npos) {
        const std::string_view port = domain.substr(colon + 1);
        if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
    }
    std::size_t start = 0;
    while (start <= host.size()) {
        const std::size_t end = std::min(host.find('.', start), host.size());
        const std::string_view part = host.substr(start, end - start);
        if (part.empty() || !is_alnum(part.front()) || !is_alnum(part.back())) return false;
        for (char c : part)
            if (!is_alnum(c) && c != '-') return false;
        start = end + 1;
    }
    return true;
}

Status check_name(std::string_view text, std::string_view name) {
    if (name.empty()) return bad(text, "the name is empty");
    if (name.size() > kMaxNameLength) return bad(text, fmt::format("the name is longer than {} characters", kMaxNameLength));
    std::size_t start = 0;
    const std::size_t slash = name.find('/');
    if (slash != std::string_view::npos) {
        const std::string_view first = name.substr(0, slash);
        const bool domain = first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
                            first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos;
        if (domain) {
            if (!is_domain(first)) return bad(text, fmt::format("'{}' is not a registry host[:port]", first));
            start = slash + 1;
        }
    }
    while (start <= name.size()) {
        const std::size_t end = std::min(name.find('/', start), name.size());
        const std::string_view part = name.substr(start, end - start);
        if (!is_path_component(part))
            return bad(text, fmt::format("'{}' is not a path component (lower-case letters and digits, joined by "
                                         "'.', '_', '__' or '-')",
                                         part));
        start = end + 1;
    }
    return Ok{};
}

Status check_tag(std::string_view text, std::string_view tag) {
    if (tag.empty()) return bad(text, "the tag after ':' is empty");
    if (tag.size() > kMaxTagLength) return bad(text, fmt::format("the tag is longer than {} characters", kMaxTagLength));
    if (!is_word(tag.front())) return bad(text, fmt::format("the tag '{}' must start with a letter, digit or '_'", tag));
    for (char c : tag)
        if (!is_word(c) && c != '.' && c != '-')
            return bad(text, fmt::format("the tag '{}' may hold letters, digits, '_', '.' and '-' only", tag));
    return Ok{};
}

Status check_digest(std::string_view text, std::string_view digest) {
    constexpr std::string_view prefix = "sha256:";
    if (digest.substr(0, prefix.size()) != prefix) return bad(text, "the digest after '@' must be sha256:<64 hex digits>");
    const std::string_view hex = digest.substr(prefix.size());
    if (hex.size() != 64) return bad(text, fmt::format("a sha256 digest has 64 hex digits, this one {}", hex.size()));
    for (char c : hex)
        if (!is_hex(c)) return bad(text, "the digest must be lower-case hex digits");
    return Ok{};
}

}  // namespace

Result<ImageReference> parse_image_reference(std::string_view text) {
    if (text.empty()) return bad(text, "it is empty");
    ImageReference reference;
    std::string_view rest = text;
    if (const std::size_t at = rest.find('@'); at != std::string_view::npos) {
        if (auto status = check_digest(text, rest.substr(at + 1)); !status) return status.error();
        reference.digest = std::string(rest.substr(at + 1));
        rest = rest.substr(0, at);
    }
    const std::size_t colon = rest.rfind(':');
    const std::size_t slash = rest.rfind('/');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        if (auto status = check_tag(text, rest.substr(colon + 1)); !status) return status.error();
        reference.tag = std::string(rest.substr(colon + 1));
        rest = rest.substr(0, colon);
    }
    if (auto status = check_name(text, rest); !status) return status.error();
    reference.name = std::string(rest);
    return reference;
}

}  // namespace tandem::config

// Typed, located reads of yaml-cpp nodes.
#include "support/yaml_fields.hpp"

#include <tandem/duration.hpp>
#include "support/suggest.hpp"
#include "support/yaml_limits.hpp"

#include <fmt/format.h>

#include <limits>

namespace tandem::yaml {

namespace {

const char* kind_name(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: return "a mapping";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Scalar: return "a scalar";
        case YAML::NodeType::Null: return "nothing";
        default: return "nothing";
    }
}

std::string shown(const Where& where) { return where.path.empty() ? "the document" : fmt::format("'{}'", where.path); }

}  // namespace

Error syntax_error(const YAML::Exception& e, const std::string& file) {
    SourceLocation at{file, e.mark.line >= 0 ? e.mark.line + 1 : 0, e.mark.column >= 0 ? e.mark.column + 1 : 0};
    return make_error(ErrorCode::syntax, "invalid YAML: " + e.msg, at);
}

Result<YAML::Node> parse(std::string_view text, const std::string& file) {
    if (auto bounded = check_limits(text, file); !bounded) return bounded.error();
    try {
        return YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        return syntax_error(e, file);
    }
}

SourceLocation location(const YAML::Node& node, const std::string& file) {
    const YAML::Mark mark = node.Mark();
    if (mark.line < 0) return SourceLocation{file, 0, 0};
    return SourceLocation{file, mark.line + 1, mark.column + 1};
}

Where Where::child(std::string_view key) const {
    return Where{file, path.empty() ? std::string(key) : fmt::format("{}.{}", path, key)};
}

Error invalid(const YAML::Node& node, const Where& where, const std::string& what) {
    return make_error(ErrorCode::invalid_value, fmt::format("{}: {}", shown(where), what), location(node, where.file));
}

Status expect_map(const YAML::Node& node, const Where& where) {
    if (node.IsMap()) return Ok{};
    return invalid(node, where, std::string("expected a mapping, found ") + kind_name(node));
}

Status check_keys(const YAML::Node& map, const Where& where, const std::vector<std::string_view>& known) {
    for (auto it = map.begin(); it != map.end(); ++it) {
        const std::string key = it->first.Scalar();
        bool found = false;
        for (auto k : known) found = found || k == key;
        if (found) continue;
        std::string message = fmt::format("unknown key '{}'", key);
        if (!where.path.empty()) message += fmt::format(" in '{}'", where.path);
        message += did_you_mean(key, known);
        return make_error(ErrorCode::unknown_key, message, location(it->first, where.file));
    }
    return Ok{};
}

Status check_keys(const YAML::Node& map, const Where& where, std::initializer_list<std::string_view> known) {
    return check_keys(map, where, std::vector<std::string_view>(known));
}

Result<std::string> read_string(const YAML::Node& node, const Where& where) {
    if (!node.IsScalar()) return invalid(node, where, std::string("expected a string, found ") + kind_name(node));
    return node.Scalar();
}

Result<bool> read_bool(const YAML::Node& node, const Where& where) {
    if (node.IsScalar()) {
        const std::string& s = node.Scalar();
        if (s == "true" || s == "yes" || s == "on") return true;
        if (s == "false" || s == "no" || s == "off") return false;
    }
    return invalid(node, where, "expected true or false");
}

Result<int> read_int(const YAML::Node& node, const Where& where, int min, int max) {
    if (node.IsScalar()) {
        const std::string& s = node.Scalar();
        try {
            std::size_t used = 0;
            const long long v = std::stoll(s, &used);
            if (used == s.size()) {
                if (v < min || v > max)
                    return invalid(node, where, fmt::format("{} is out of range ({} to {})", s, min, max));
                return static_cast<int>(v);
            }
        } catch (...) {
        }
    }
    return invalid(node, where, "expected a whole number");
}

Result<Duration> read_duration(const YAML::Node& node, const Where& where) {
    if (node.IsScalar()) {
        if (auto d = parse_duration(node.Scalar())) return *d;
    }
    const std::string found = node.IsScalar() ? fmt::format("'{}'", node.Scalar()) : kind_name(node);
    return invalid(node, where, "expected a duration such as 500ms, 2s or 1m, found " + found);
}

Result<std::vector<std::string>> read_string_list(const YAML::Node& node, const Where& where, bool allow_scalar) {
    std::vector<std::string> out;
    if (allow_scalar && node.IsScalar()) {
        out.push_back(node.Scalar());
        return out;
    }
    if (!node.IsSequence())
        return invalid(node, where, std::string("expected a list of strings, found ") + kind_name(node));
    for (std::size_t i = 0; i < node.size(); ++i) {
        auto item = read_string(node[i], where.child(std::to_string(i)));
        if (!item) return item.error();
        out.push_back(std::move(*item));
    }
    return out;
}

Result<std::string> read_choice(const YAML::Node& node, const Where& where,
                                std::initializer_list<std::string_view> choices) {
    auto s = read_string(node, where);
    if (!s) return s.error();
    std::string list;
    for (auto c : choices) {
        if (c == *s) return s;
        list += list.empty() ? "" : ", ";
        list += c;
    }
    return invalid(
        node, where,
        fmt::format("'{}' is not one of {}{}", *s, list, did_you_mean(*s, std::vector<std::string_view>(choices))));
}

}  // namespace tandem::yaml

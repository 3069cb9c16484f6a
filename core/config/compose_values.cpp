// Reading compose values: scalars, string lists, shell words, Go durations and KEY=VALUE lists.
#include "config/compose_context.hpp"

#include <fmt/format.h>

#include <cmath>

namespace tandem::config::compose {

namespace {

const char* kind_of(const YAML::Node& node) {
    if (node.IsMap()) return "a mapping";
    if (node.IsSequence()) return "a list";
    if (node.IsNull()) return "nothing";
    return "a scalar";
}

}  // namespace

Result<std::string> scalar(const Context& context, const YAML::Node& node, const std::string& path) {
    if (!node.IsDefined()) return make_error(ErrorCode::missing_field, fmt::format("'{}' is missing", path));
    if (node.IsScalar()) return node.Scalar();
    return context.invalid(node, path, fmt::format("expected a string, found {}", kind_of(node)));
}

Result<std::vector<std::string>> string_list(const Context& context, const YAML::Node& node, const std::string& path) {
    if (!node.IsDefined()) return make_error(ErrorCode::missing_field, fmt::format("'{}' is missing", path));
    if (node.IsScalar()) return std::vector<std::string>{node.Scalar()};
    if (!node.IsSequence())
        return context.invalid(node, path, fmt::format("expected a string or a list of strings, found {}", kind_of(node)));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < node.size(); ++i) {
        auto item = scalar(context, node[i], fmt::format("{}.{}", path, i));
        if (!item) return item.error();
        out.push_back(std::move(*item));
    }
    return out;
}

Result<std::vector<std::string>> split_words(const std::string& text) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quote == '\'') {
            if (c == '\'') quote = 0;
            else word += c;
            continue;
        }
        if (quote == '"') {
            if (c == '"') quote = 0;
            else if (c == '\\' && i + 1 < text.size() && std::string_view("\\\"$`").find(text[i + 1]) != std::string_view::npos)
                word += text[++i];
            else word += c;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        if (c == '\'' || c == '"') quote = c;
        else if (c == '\\' && i + 1 < text.size()) word += text[++i];
        else word += c;
    }
    if (quote) return make_error(ErrorCode::invalid_value, fmt::format("unclosed {} quote", quote == '"' ? "double" : "single"));
    if (in_word) words.push_back(std::move(word));
    return words;
}

Result<std::string> duration(const Context& context, const YAML::Node& node, const std::string& path) {
    auto text = scalar(context, node, path);
    if (!text) return text.error();
    const auto bad = [&] {
        return context.invalid(node, path,
                               fmt::format("'{}' is not a duration (a number and a unit: 1m30s, 10s, 500ms)", *text));
    };
    if (text->empty()) return bad();
    double total_ms = 0;
    std::size_t i = 0;
    while (i < text->size()) {
        std::size_t end = i;
        while (end < text->size() && (std::isdigit(static_cast<unsigned char>((*text)[end])) || (*text)[end] == '.')) ++end;
        if (end == i) return bad();
        const double number = std::strtod(text->substr(i, end - i).c_str(), nullptr);
        std::size_t unit_end = end;
        while (unit_end < text->size() && std::isalpha(static_cast<unsigned char>((*text)[unit_end]))) ++unit_end;
        const std::string unit = text->substr(end, unit_end - end);
        double scale = 0;
        if (unit == "h") scale = 3'600'000;
        else if (unit == "m") scale = 60'000;
        else if (unit == "s") scale = 1000;
        else if (unit == "ms") scale = 1;
        else if (unit == "us" || unit == "µs") scale = 0.001;
        else if (unit == "ns") scale = 0.000001;
        else return bad();
        total_ms += number * scale;
        i = unit_end;
    }
    if (total_ms > 365.0 * 24 * 3'600'000) return bad();
    return fmt::format("{}ms", static_cast<long long>(std::ceil(total_ms)));
}

Result<std::vector<std::pair<std::string, std::optional<std::string>>>> pairs(const Context& context,
                                                                              const YAML::Node& node,
                                                                              const std::string& path, char sep) {
    std::vector<std::pair<std::string, std::optional<std::string>>> out;
    if (node.IsMap()) {
        for (auto it = node.begin(); it != node.end(); ++it) {
            const std::string key = it->first.Scalar();
            if (it->second.IsNull()) out.emplace_back(key, std::nullopt);
            else if (it->second.IsScalar()) out.emplace_back(key, it->second.Scalar());
            else
                return context.invalid(it->second, path + "." + key,
                                       fmt::format("expected a string, number or boolean, found {}", kind_of(it->second)));
        }
        return out;
    }
    if (!node.IsSequence())
        return context.invalid(node, path, fmt::format("expected a mapping or a list of KEY{}VALUE, found {}", sep,
                                                       kind_of(node)));
    for (std::size_t i = 0; i < node.size(); ++i) {
        auto text = scalar(context, node[i], fmt::format("{}.{}", path, i));
        if (!text) return text.error();
        std::size_t at = text->find(sep);
        // extra_hosts also takes "HOST=IP" (compose accepts both separators there).
        if (at == std::string::npos && sep == ':') at = text->find('=');
        if (at == 0 || text->empty())
            return context.invalid(node[i], fmt::format("{}.{}", path, i), fmt::format("'{}' has no name", *text));
        if (at == std::string::npos) out.emplace_back(*text, std::nullopt);
        else out.emplace_back(text->substr(0, at), text->substr(at + 1));
    }
    return out;
}

}  // namespace tandem::config::compose

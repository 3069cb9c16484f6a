// Compose's variable substitution and `.env` files (interpolation.hpp).
#include "config/interpolation.hpp"

#include <fmt/format.h>

#include <cctype>

namespace tandem::config {

namespace {

bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Limits that keep a small file from expanding without end: how deep `${A:-${B:-...}}` nests, and
// how long one value may grow (`B=${A}${A}`, `C=${B}${B}`, ... doubles at each line).
constexpr int kMaxNesting = 32;
constexpr std::size_t kMaxValueBytes = std::size_t{1} << 20;

Result<std::string> interpolate_at(std::string_view text, const VariableLookup& lookup, int depth);

Error bad(std::string_view why, std::size_t offset) {
    return make_error(ErrorCode::invalid_value, fmt::format("{} (at offset {})", why, offset));
}

// The end of the `${…}` that starts at `open` (the offset of its '}'), braces inside counted.
std::optional<std::size_t> closing_brace(std::string_view text, std::size_t open) {
    int depth = 0;
    for (std::size_t i = open; i < text.size(); ++i) {
        if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
            ++i;
            continue;
        }
        if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
            ++depth;
            ++i;
            continue;
        }
        if (text[i] == '}' && --depth == 0) return i;
    }
    return std::nullopt;
}

// The inside of `${…}`: NAME, then maybe an operator and its word.
Result<std::string> braced(std::string_view inside, std::size_t offset, const VariableLookup& lookup, int depth) {
    std::size_t end = 0;
    while (end < inside.size() && name_char(inside[end])) ++end;
    const std::string name(inside.substr(0, end));
    if (name.empty() || !name_start(name.front()))
        return bad(fmt::format("'${{{}}}' is not a variable: a name is letters, digits and '_'", inside), offset);
    const std::optional<std::string> value = lookup(name);
    if (end == inside.size()) return value.value_or(std::string());
    const bool colon = inside[end] == ':';
    const std::size_t op_at = colon ? end + 1 : end;
    if (op_at >= inside.size()) return bad(fmt::format("'${{{}}}': an operator is missing after ':'", inside), offset);
    const char op = inside[op_at];
    if (op != '-' && op != '?' && op != '+')
        return bad(fmt::format("'${{{}}}': unknown operator '{}' (use :-, -, :?, ?, :+ or +)", inside, inside.substr(end)),
                   offset);
    const bool present = colon ? value && !value->empty() : value.has_value();
    auto word = [&]() { return interpolate_at(inside.substr(op_at + 1), lookup, depth + 1); };
    if (op == '-') return present ? *value : word();
    if (op == '+') return present ? word() : Result<std::string>(std::string());
    if (present) return *value;
    auto message = word();
    if (!message) return message.error();
    return make_error(ErrorCode::invalid_value,
                      fmt::format("required variable {} is {}: {}", name, value ? "empty" : "not set",
                                  message->empty() ? std::string("(no message)") : *message));
}

Result<std::string> interpolate_at(std::string_view text, const VariableLookup& lookup, int depth) {
    if (depth > kMaxNesting) return bad(fmt::format("variables nest deeper than {} levels", kMaxNesting), 0);
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (out.size() > kMaxValueBytes)
            return bad(fmt::format("the value expands to more than {} bytes (the limit)", kMaxValueBytes), i);
        if (text[i] != '$') {
            out += text[i];
            continue;
        }
        if (i + 1 >= text.size()) {
            out += '$';  // a lone '$' at the end stays, as compose leaves it
            continue;
        }
        const char next = text[i + 1];
        if (next == '$') {
            out += '$';
            ++i;
        } else if (next == '{') {
            const auto close = closing_brace(text, i);
            if (!close) return bad("'${' without a closing '}'", i);
            auto value = braced(text.substr(i + 2, *close - i - 2), i, lookup, depth);
            if (!value) return value.error();
            out += *value;
            i = *close;
        } else if (name_start(next)) {
            std::size_t end = i + 1;
            while (end < text.size() && name_char(text[end])) ++end;
            out += lookup(std::string(text.substr(i + 1, end - i - 1))).value_or(std::string());
            i = end - 1;
        } else {
            out += '$';  // "$ ", "$1": not a variable
        }
    }
    if (out.size() > kMaxValueBytes)
        return bad(fmt::format("the value expands to more than {} bytes (the limit)", kMaxValueBytes), text.size());
    return out;
}

}  // namespace

Result<std::string> interpolate(std::string_view text, const VariableLookup& lookup) {
    return interpolate_at(text, lookup, 0);
}

namespace {

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r");
    return std::string(text.substr(first, last - first + 1));
}

Result<std::string> double_quoted(std::string_view body, std::size_t line, const VariableLookup& lookup) {
    std::string raw;
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] != '\\' || i + 1 >= body.size()) {
            raw += body[i];
            continue;
        }
        const char c = body[++i];
        raw += c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
    }
    auto value = interpolate(raw, lookup);
    if (!value) return make_error(value.error().code, fmt::format("line {}: {}", line, value.error().message));
    return value;
}

}  // namespace

Result<std::map<std::string, std::string>> parse_env_file(std::string_view text, const VariableLookup& lookup) {
    std::map<std::string, std::string> vars;
    auto seen = [&](const std::string& name) -> std::optional<std::string> {
        if (auto it = vars.find(name); it != vars.end()) return it->second;
        return lookup ? lookup(name) : std::nullopt;
    };
    std::size_t line_number = 0;
    std::size_t at = 0;
    while (at <= text.size()) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        std::string line = trim(text.substr(at, end - at));
        at = end + 1;
        ++line_number;
        if (line.empty() || line.front() == '#') continue;
        if (line.rfind("export ", 0) == 0) line = trim(std::string_view(line).substr(7));
        const auto equals = line.find('=');
        const std::string key = trim(std::string_view(line).substr(0, std::min(equals, line.size())));
        if (equals == std::string::npos || key.empty() || !name_start(key.front()) ||
            key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
            return make_error(ErrorCode::invalid_value,
                              fmt::format("line {}: expected KEY=VALUE with KEY letters, digits and '_', found '{}'",
                                          line_number, line));
        std::string value = trim(std::string_view(line).substr(equals + 1));
        const char quote = value.empty() ? '\0' : value.front();
        if (quote == '\'' || quote == '"') {
            std::size_t close = value.find(quote, 1);
            while (quote == '"' && close != std::string::npos && value[close - 1] == '\\') close = value.find(quote, close + 1);
            if (close == std::string::npos)
                return make_error(ErrorCode::invalid_value,
                                  fmt::format("line {}: the value of {} opens a {} quote and never closes it",
                                              line_number, key, quote == '"' ? "double" : "single"));
            const std::string body = value.substr(1, close - 1);
            if (quote == '\'') {
                vars[key] = body;
            } else {
                auto expanded = double_quoted(body, line_number, seen);
                if (!expanded) return expanded.error();
                vars[key] = *expanded;
            }
            continue;
        }
        if (const auto comment = value.find(" #"); comment != std::string::npos) value = trim(value.substr(0, comment));
        auto expanded = interpolate(value, seen);
        if (!expanded)
            return make_error(expanded.error().code, fmt::format("line {}: {}", line_number, expanded.error().message));
        vars[key] = *expanded;
    }
    return vars;
}

}  // namespace tandem::config

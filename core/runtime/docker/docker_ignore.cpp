// The .dockerignore matcher, after moby's patternmatcher: each pattern is compiled to an
// anchored regular expression, and a path is tested as itself and as each of its parents that
// has at least as many segments as the pattern.
#include "runtime/docker/docker_ignore.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace tandem::docker {

std::string clean_path(std::string_view path) {
    const bool rooted = !path.empty() && path.front() == '/';
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view part = path.substr(start, end - start);
        if (part == "..") {
            if (!parts.empty() && parts.back() != "..") parts.pop_back();
            else if (!rooted) parts.push_back(part);
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        start = end + 1;
    }
    std::string out = rooted ? "/" : "";
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += '/';
        out += parts[i];
    }
    return out.empty() ? "." : out;
}

namespace {

// filepath.Match syntax and `**` to an ECMAScript regular expression.
Result<std::string> to_regex(std::string_view pattern) {
    std::string re = "^";
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '*') {
            if (i + 1 < pattern.size() && pattern[i + 1] == '*') {
                ++i;
                if (i + 1 < pattern.size() && pattern[i + 1] == '/') ++i;  // "**/" is "**"
                re += i + 1 == pattern.size() ? ".*" : "(.*/)?";
            } else {
                re += "[^/]*";
            }
        } else if (c == '?') {
            re += "[^/]";
        } else if (c == '\\') {
            if (i + 1 == pattern.size()) return make_error(ErrorCode::invalid_value, "a trailing '\\' escapes nothing");
            re += '\\';
            re += pattern[++i];
        } else if (c == '[') {
            const auto close = pattern.find(']', i + 1);
            if (close == std::string_view::npos) return make_error(ErrorCode::invalid_value, "'[' has no closing ']'");
            std::string_view klass = pattern.substr(i + 1, close - i - 1);
            re += '[';
            if (!klass.empty() && klass.front() == '^') {  // Go's negation; '!' is itself
                re += '^';
                klass.remove_prefix(1);
            }
            for (const char k : klass) {
                if (k == '\\' || k == '[') re += '\\';
                re += k;
            }
            re += ']';
            i = close;
        } else if (std::string_view(".+()|{}^$").find(c) != std::string_view::npos) {
            re += '\\';
            re += c;
        } else {
            re += c;
        }
    }
    return re + "$";
}

std::size_t count_segments(std::string_view path) {
    std::size_t n = 1;
    for (const char c : path) n += c == '/' ? 1 : 0;
    return n;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

Result<DockerIgnore::Pattern> DockerIgnore::compile(std::string text, bool exception) {
    text = clean_path(text);
    if (text.size() > 1 && text.front() == '/') text.erase(0, 1);
    auto re = to_regex(text);
    if (!re) return re.error();
    try {
        return Pattern{text, std::regex(*re), count_segments(text), exception};
    } catch (const std::regex_error& e) {
        return make_error(ErrorCode::invalid_value, fmt::format("not a valid pattern: {}", e.what()));
    }
}

Result<DockerIgnore> DockerIgnore::parse(std::string_view text, std::string_view file) {
    DockerIgnore ignore;
    int number = 0;
    std::istringstream lines{std::string(text)};
    for (std::string raw; std::getline(lines, raw);) {
        ++number;
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        const bool exception = line.front() == '!';
        if (exception) line = trim(line.substr(1));
        if (line.empty()) {
            return make_error(ErrorCode::invalid_value, "'!' without a pattern",
                              SourceLocation{std::string(file), number, 1});
        }
        auto pattern = compile(std::string(line), exception);
        if (!pattern) {
            return make_error(ErrorCode::invalid_value,
                              fmt::format("pattern '{}': {}", line, pattern.error().message),
                              SourceLocation{std::string(file), number, 1});
        }
        ignore.has_exceptions_ = ignore.has_exceptions_ || exception;
        ignore.patterns_.push_back(std::move(*pattern));
    }
    return ignore;
}

Result<DockerIgnore> DockerIgnore::load(const std::filesystem::path& dir) {
    const std::filesystem::path file = dir / ".dockerignore";
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::error_code ec;
        if (!std::filesystem::exists(file, ec)) return DockerIgnore{};
        return make_error(ErrorCode::io, fmt::format("{}: cannot be read", file.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), file.string());
}

void DockerIgnore::keep(std::string_view path) {
    auto pattern = compile(std::string(path), true);
    if (!pattern) return;  // a path with '[' that is no class: keep() is for plain names
    has_exceptions_ = true;
    patterns_.push_back(std::move(*pattern));
}

bool DockerIgnore::excludes(std::string_view path) const {
    const std::string file = clean_path(path);
    std::vector<std::string_view> parents;  // "a", "a/b", ... up to the path's parent
    for (std::size_t slash = file.find('/'); slash != std::string::npos; slash = file.find('/', slash + 1)) {
        parents.push_back(std::string_view(file).substr(0, slash));
    }
    bool excluded = false;
    for (const Pattern& pattern : patterns_) {
        bool match = std::regex_match(file, pattern.regex);
        if (!match && !parents.empty() && pattern.segments <= parents.size()) {
            const std::string_view parent = parents[pattern.segments - 1];
            match = std::regex_match(parent.begin(), parent.end(), pattern.regex);
        }
        if (match) excluded = !pattern.exception;
    }
    return excluded;
}

}  // namespace tandem::docker

// The glob matcher used by the planner to map changed paths to watch rules and build inputs.
#include "support/glob.hpp"

#include <cstddef>
#include <vector>

namespace tandem {

namespace {

// Segments of a relative path; empty and "." segments (from "./", "//", "a/") are dropped.
std::vector<std::string_view> split_segments(std::string_view text) {
    std::vector<std::string_view> segments;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('/', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view segment = text.substr(start, end - start);
        if (!segment.empty() && segment != ".") segments.push_back(segment);
        start = end + 1;
    }
    return segments;
}

// Matches one character against the class starting at pattern[at] == '['. Sets `next` to the
// index after the closing ']'. Returns false with next == npos when the class is unterminated
// (the '[' is then taken literally by the caller).
bool match_class(std::string_view pattern, std::size_t at, char c, std::size_t& next) {
    std::size_t i = at + 1;
    bool negated = false;
    if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
        negated = true;
        ++i;
    }
    bool matched = false;
    bool first = true;
    while (i < pattern.size() && (first || pattern[i] != ']')) {
        first = false;
        char low = pattern[i];
        if (low == '\\' && i + 1 < pattern.size()) low = pattern[++i];
        char high = low;
        if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
            i += 2;
            if (pattern[i] == '\\' && i + 1 < pattern.size()) ++i;
            high = pattern[i];
        }
        if (low <= c && c <= high) matched = true;
        ++i;
    }
    if (i >= pattern.size()) {
        next = std::string_view::npos;
        return false;
    }
    next = i + 1;
    return matched != negated;
}

// Matches one pattern element at pattern[p] (not '*') against c; advances p on success.
bool match_one(std::string_view pattern, std::size_t& p, char c) {
    const char pc = pattern[p];
    if (pc == '?') {
        ++p;
        return true;
    }
    if (pc == '[') {
        std::size_t next = 0;
        const bool matched = match_class(pattern, p, c, next);
        if (next != std::string_view::npos) {
            if (matched) p = next;
            return matched;
        }
        // Unterminated class: a literal '['.
    }
    if (pc == '\\' && p + 1 < pattern.size()) {
        if (pattern[p + 1] != c) return false;
        p += 2;
        return true;
    }
    if (pc != c) return false;
    ++p;
    return true;
}

// One segment against one pattern segment: `*`, `?`, classes, escapes. Classic greedy match
// with a single backtrack point for the last `*`.
bool match_segment(std::string_view pattern, std::string_view text) {
    std::size_t p = 0, t = 0;
    std::size_t star = std::string_view::npos, star_text = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = ++p;
            star_text = t;
            continue;
        }
        if (p < pattern.size() && match_one(pattern, p, text[t])) {
            ++t;
            continue;
        }
        if (star == std::string_view::npos) return false;
        p = star;
        t = ++star_text;
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

// Whether pattern segments [pi..] match a prefix of path segments [si..]; `**` takes zero or
// more segments. `tried` marks (pattern index, path index) pairs already tried: they failed.
bool match_segments(const std::vector<std::string_view>& pattern, std::size_t pi,
                    const std::vector<std::string_view>& path, std::size_t si, std::vector<char>& tried) {
    if (pi == pattern.size()) return true;  // the rest of the path lies below a match
    char& seen = tried[pi * (path.size() + 1) + si];
    if (seen) return false;
    seen = 1;
    if (pattern[pi] == "**") {
        for (std::size_t skip = si; skip <= path.size(); ++skip)
            if (match_segments(pattern, pi + 1, path, skip, tried)) return true;
        return false;
    }
    if (si == path.size()) return false;
    return match_segment(pattern[pi], path[si]) && match_segments(pattern, pi + 1, path, si + 1, tried);
}

// Walks the segments of a path as split_segments() gives them, without allocating.
class SegmentCursor {
public:
    explicit SegmentCursor(std::string_view text) : text_(text) {}
    // The next segment, or false at the end.
    bool next(std::string_view& segment) {
        while (at_ <= text_.size()) {
            std::size_t end = text_.find('/', at_);
            if (end == std::string_view::npos) end = text_.size();
            segment = text_.substr(at_, end - at_);
            at_ = end + 1;
            if (!segment.empty() && segment != ".") return true;
        }
        return false;
    }

private:
    std::string_view text_;
    std::size_t at_ = 0;
};

enum class Quick { match, mismatch, undecided };

// Segment by segment up to the first `**`, with no allocation: most paths a planner tries
// against a pattern part ways in the first segment or two.
Quick quick_match(std::string_view pattern, std::string_view path) {
    SegmentCursor patterns(pattern), paths(path);
    std::string_view want, have;
    while (patterns.next(want)) {
        if (want == "**") return Quick::undecided;
        if (!paths.next(have) || !match_segment(want, have)) return Quick::mismatch;
    }
    return Quick::match;  // the rest of the path lies below a match
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
    if (pattern.empty()) return false;
    if (const Quick quick = quick_match(pattern, path); quick != Quick::undecided) return quick == Quick::match;
    const auto pattern_segments = split_segments(pattern);
    const auto path_segments = split_segments(path);
    std::vector<char> tried((pattern_segments.size() + 1) * (path_segments.size() + 1), 0);
    return match_segments(pattern_segments, 0, path_segments, 0, tried);
}

}  // namespace tandem

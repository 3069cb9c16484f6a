// git's wildmatch (dir.c's matcher for ignore patterns), rewritten over string_views with the same
// results, including its early exits that make `*` never backtrack past an impossible match.
#include "source/wildmatch.hpp"

#include <cctype>

namespace tandem::detail {
namespace {

enum class Outcome { match, no_match, abort_all, abort_to_starstar };

struct Matcher {
    std::string_view pattern;
    std::string_view text;
    bool pathname = true;

    char at_pattern(std::size_t i) const { return i < pattern.size() ? pattern[i] : '\0'; }
    char at_text(std::size_t i) const { return i < text.size() ? text[i] : '\0'; }

    Outcome run(std::size_t p, std::size_t t) const;
    Outcome star(std::size_t p, std::size_t t) const;
    Outcome bracket(std::size_t& p, char t_ch) const;
};

bool is_glob_special(char c) { return c == '*' || c == '?' || c == '[' || c == '\\'; }

bool in_posix_class(std::string_view name, unsigned char c) {
    if (name == "alnum") return std::isalnum(c);
    if (name == "alpha") return std::isalpha(c);
    if (name == "blank") return c == ' ' || c == '\t';
    if (name == "cntrl") return std::iscntrl(c);
    if (name == "digit") return std::isdigit(c);
    if (name == "graph") return std::isgraph(c);
    if (name == "lower") return std::islower(c);
    if (name == "print") return std::isprint(c);
    if (name == "punct") return std::ispunct(c);
    if (name == "space") return std::isspace(c);
    if (name == "upper") return std::isupper(c);
    if (name == "xdigit") return std::isxdigit(c);
    return false;
}

// `p` points at the '['; on return it points at the closing ']'.
Outcome Matcher::bracket(std::size_t& p, char t_ch) const {
    char p_ch = at_pattern(++p);
    bool negated = false;
    if (p_ch == '^' || p_ch == '!') {
        negated = true;
        p_ch = at_pattern(++p);
    }
    char prev_ch = 0;
    bool matched = false;
    do {
        if (!p_ch) return Outcome::abort_all;
        if (p_ch == '\\') {
            p_ch = at_pattern(++p);
            if (!p_ch) return Outcome::abort_all;
            if (t_ch == p_ch) matched = true;
        } else if (p_ch == '-' && prev_ch && at_pattern(p + 1) && at_pattern(p + 1) != ']') {
            p_ch = at_pattern(++p);
            if (p_ch == '\\') {
                p_ch = at_pattern(++p);
                if (!p_ch) return Outcome::abort_all;
            }
            if (static_cast<unsigned char>(t_ch) <= static_cast<unsigned char>(p_ch) &&
                static_cast<unsigned char>(t_ch) >= static_cast<unsigned char>(prev_ch))
                matched = true;
            p_ch = 0;  // a range's end cannot start another range
        } else if (p_ch == '[' && at_pattern(p + 1) == ':') {
            const std::size_t name_start = p + 2;
            std::size_t end = name_start;
            while (at_pattern(end) && at_pattern(end) != ']') ++end;
            if (!at_pattern(end)) return Outcome::abort_all;
            if (end == name_start || at_pattern(end - 1) != ':') {
                // Not a class after all: a literal '['.
                if (t_ch == '[') matched = true;
            } else {
                const auto name = pattern.substr(name_start, end - 1 - name_start);
                if (in_posix_class(name, static_cast<unsigned char>(t_ch))) matched = true;
                else if (name != "alnum" && name != "alpha" && name != "blank" && name != "cntrl" &&
                         name != "digit" && name != "graph" && name != "lower" && name != "print" &&
                         name != "punct" && name != "space" && name != "upper" && name != "xdigit")
                    return Outcome::abort_all;  // malformed [:class:]
                p = end;
                p_ch = 0;
            }
        } else if (t_ch == p_ch) {
            matched = true;
        }
        prev_ch = p_ch;
        p_ch = at_pattern(++p);
    } while (p_ch != ']');
    if (matched == negated || (pathname && t_ch == '/')) return Outcome::no_match;
    return Outcome::match;
}

// `p` points at the first '*'.
Outcome Matcher::star(std::size_t p, std::size_t t) const {
    const std::size_t first_star = p;
    bool match_slash;
    if (at_pattern(++p) == '*') {
        while (at_pattern(++p) == '*') {
        }
        const bool segment_start = first_star == 0 || pattern[first_star - 1] == '/';
        const char next = at_pattern(p);
        if (!pathname) {
            match_slash = true;
        } else if (segment_start && (next == '\0' || next == '/' || (next == '\\' && at_pattern(p + 1) == '/'))) {
            // `**/` may match no directory at all: "a/**/b" matches "a/b".
            if (next == '/' && run(p + 1, t) == Outcome::match) return Outcome::match;
            match_slash = true;
        } else {
            match_slash = false;
        }
    } else {
        match_slash = !pathname;
    }
    if (at_pattern(p) == '\0') {
        if (!match_slash && text.find('/', t) != std::string_view::npos) return Outcome::no_match;
        return Outcome::match;
    }
    if (!match_slash && at_pattern(p) == '/') {
        // One `*` before a '/' takes the rest of this segment.
        const auto slash = text.find('/', t);
        if (slash == std::string_view::npos) return Outcome::no_match;
        return run(p + 1, slash + 1);
    }
    char t_ch = at_text(t);
    while (t_ch != '\0') {
        if (!is_glob_special(at_pattern(p))) {
            const char p_ch = at_pattern(p);
            while ((t_ch = at_text(t)) != '\0' && (match_slash || t_ch != '/')) {
                if (t_ch == p_ch) break;
                ++t;
            }
            if (t_ch != p_ch) return Outcome::no_match;
        }
        const Outcome rest = run(p, t);
        if (rest != Outcome::no_match) {
            if (!match_slash || rest != Outcome::abort_to_starstar) return rest;
        } else if (!match_slash && t_ch == '/') {
            return Outcome::abort_to_starstar;
        }
        t_ch = at_text(++t);
    }
    return Outcome::abort_all;
}

Outcome Matcher::run(std::size_t p, std::size_t t) const {
    for (; p < pattern.size(); ++p, ++t) {
        char p_ch = pattern[p];
        const char t_ch = at_text(t);
        if (t_ch == '\0' && p_ch != '*') return Outcome::abort_all;
        switch (p_ch) {
        case '\\':
            p_ch = at_pattern(++p);
            if (t_ch != p_ch) return Outcome::no_match;
            break;
        case '?':
            if (pathname && t_ch == '/') return Outcome::no_match;
            break;
        case '*':
            return star(p, t);
        case '[': {
            const Outcome class_outcome = bracket(p, t_ch);
            if (class_outcome != Outcome::match) return class_outcome;
            break;
        }
        default:
            if (t_ch != p_ch) return Outcome::no_match;
            break;
        }
    }
    return t >= text.size() ? Outcome::match : Outcome::no_match;
}

}  // namespace

bool wildmatch(std::string_view pattern, std::string_view text, WildmatchMode flavour) {
    const Matcher matcher{pattern, text, flavour == WildmatchMode::pathname};
    return matcher.run(0, 0) == Outcome::match;
}

}  // namespace tandem::detail

// Parsing and matching one ignore-file line with git's rules (dir.c: parse_path_pattern,
// match_basename, match_pathname).
#include "source/gitignore_pattern.hpp"

#include "source/wildmatch.hpp"

namespace tandem::detail {

std::string_view trim_unescaped_trailing_spaces(std::string_view text) {
    std::size_t keep = text.size();
    std::optional<std::size_t> first_trailing_space;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == ' ') {
            if (!first_trailing_space) first_trailing_space = i;
        } else if (text[i] == '\\') {
            ++i;
            if (i >= text.size()) return text;  // a lone trailing backslash keeps everything
            first_trailing_space.reset();
        } else {
            first_trailing_space.reset();
        }
    }
    if (first_trailing_space) keep = *first_trailing_space;
    return text.substr(0, keep);
}

std::optional<GitignorePattern> GitignorePattern::parse(std::string_view line_text, int line) {
    if (!line_text.empty() && line_text.back() == '\r') line_text.remove_suffix(1);
    if (line_text.empty() || line_text.front() == '#') return std::nullopt;
    std::string_view text = trim_unescaped_trailing_spaces(line_text);
    if (text.empty()) return std::nullopt;

    GitignorePattern pattern;
    pattern.line_ = line;
    if (text.front() == '!') {
        pattern.negated_ = true;
        text.remove_prefix(1);
    }
    if (!text.empty() && text.back() == '/') {
        pattern.directory_only_ = true;
        text.remove_suffix(1);
    }
    pattern.basename_only_ = text.find('/') == std::string_view::npos;
    pattern.glob_with_anchor_ = std::string(text);
    if (!text.empty() && text.front() == '/') text.remove_prefix(1);
    pattern.glob_ = std::string(text);
    return pattern;
}

bool GitignorePattern::matches(std::string_view relative_path, std::string_view basename, bool is_directory) const {
    if (directory_only_ && !is_directory) return false;
    if (basename_only_) return wildmatch(glob_, basename, WildmatchMode::basename);
    // git compares the wildcard-free prefix literally and matches only the rest as a glob, so a
    // `**` right after that prefix ("a**/b") counts as starting a segment. Kept for fidelity.
    const std::size_t prefix = glob_.find_first_of("*?[\\");
    if (prefix == std::string::npos) return relative_path == glob_;
    if (relative_path.substr(0, prefix) != std::string_view(glob_).substr(0, prefix)) return false;
    if (relative_path.size() < prefix) return false;
    return wildmatch(std::string_view(glob_).substr(prefix), relative_path.substr(prefix), WildmatchMode::pathname);
}

std::string GitignorePattern::as_written() const {
    std::string text = negated_ ? "!" : "";
    text += glob_with_anchor_;
    if (directory_only_) text += '/';
    return text;
}

}  // namespace tandem::detail

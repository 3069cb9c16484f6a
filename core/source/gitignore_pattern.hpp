// One line of a .gitignore (or .tandemignore, .git/info/exclude): parsed as git parses it and
// matched as git matches it, relative to the directory of the file it came from.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tandem::detail {

class GitignorePattern {
public:
    // nullopt for blank lines and `#` comments. `line` is kept for reports.
    static std::optional<GitignorePattern> parse(std::string_view line_text, int line);

    // `relative_path` is the path relative to the directory of the ignore file ('/'-separated,
    // no leading '/'); `basename` is its last segment.
    bool matches(std::string_view relative_path, std::string_view basename, bool is_directory) const;

    bool negated() const { return negated_; }
    int line() const { return line_; }
    // The rule as git's check-ignore prints it: `!` for negations, `/` for directory-only.
    std::string as_written() const;

private:
    std::string glob_;               // without `!`, the trailing `/`, and a leading `/`
    std::string glob_with_anchor_;   // with the leading `/` if there was one (for as_written)
    bool negated_ = false;
    bool directory_only_ = false;    // trailing `/`
    bool basename_only_ = false;     // no `/` in the pattern: matches a name at any depth
    int line_ = 0;
};

// Drops trailing spaces that are not escaped with a backslash (git's trim_trailing_spaces).
std::string_view trim_unescaped_trailing_spaces(std::string_view text);

}  // namespace tandem::detail

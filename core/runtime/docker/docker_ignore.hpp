// .dockerignore, with Docker's own rules (not .gitignore's): one pattern a line, `#` comments,
// blank lines skipped; a pattern is cleaned like Go's filepath.Clean (a leading '/' dropped) and
// matched against the whole '/'-separated path from the context root with filepath.Match syntax
// (`*` and `?` within a segment, `[a-z]` and `[^a-z]` classes, `\` escapes) plus `**` for any number of
// segments; `!` makes a pattern an exception. The last pattern that matches a path, or one of
// its parent directories, decides.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::docker {

class DockerIgnore {
public:
    // `text` is the file's content; `file` names it in errors ("ctx/.dockerignore").
    static Result<DockerIgnore> parse(std::string_view text, std::string_view file = ".dockerignore");
    // Reads `dir`/.dockerignore; no file means nothing is ignored.
    static Result<DockerIgnore> load(const std::filesystem::path& dir);

    // Whether `path` ("a/b.txt", relative to the context root) is left out of the context.
    bool excludes(std::string_view path) const;
    // Whether some exception could bring back a path below an excluded directory (so a walk
    // must still enter it).
    bool has_exceptions() const { return has_exceptions_; }

    // Adds an exception for `path`: the Dockerfile and .dockerignore are always sent.
    void keep(std::string_view path);

private:
    struct Pattern {
        std::string text;      // cleaned
        std::regex regex;
        std::size_t segments;  // how many '/'-separated parts the pattern has
        bool exception = false;
    };
    static Result<Pattern> compile(std::string text, bool exception);

    std::vector<Pattern> patterns_;
    bool has_exceptions_ = false;
};

// Go's filepath.Clean on a '/'-separated path: "a//b/./c/../d/" -> "a/b/d"; "" -> ".".
std::string clean_path(std::string_view path);

}  // namespace tandem::docker

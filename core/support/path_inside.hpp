// Whether a path stays inside a root, by one rule, written once. Two checks, named for what
// they look at:
//
// - `inside_root` is LEXICAL: the text alone decides, nothing on disk is read. The path is taken
//   relative to the root; an empty or absolute path is refused; "." and empty segments are
//   dropped and "x/.." folded; what is left must not start with "..". So "a/../b" is "b", and
//   "a/../../b", "..", "../x" leave. A symlink inside the root that points out of it is NOT
//   seen: use this on names before anything is opened (config fields, tree paths, knobs), and
//   `resolved_inside` where the files exist.
// - `resolved_inside` RESOLVES SYMLINKS: both paths are made canonical (every symlink followed;
//   a tail that does not exist yet is taken as written), then compared segment by segment, so
//   "/srv/root2" is not inside "/srv/root", and a link out of the root is outside.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace tandem {

struct InsideRoot {
    enum class Refusal { none, empty, absolute, leaves };
    Refusal refusal = Refusal::none;
    std::string path;  // when inside: the normal form, '/'-separated, no trailing '/', "" for the root itself

    bool inside() const { return refusal == Refusal::none; }
    explicit operator bool() const { return inside(); }
};

InsideRoot inside_root(std::string_view relative);

// `path` (after its symlinks) relative to `root` (after its own): "" for the root itself;
// Refusal::leaves when it is elsewhere, Refusal::empty when either cannot be resolved.
InsideRoot resolved_inside(const std::filesystem::path& root, const std::filesystem::path& path);

// Lexical, on normal relative paths: `path` is `parent` or below it ("out" holds "out" and
// "out/x", not "outer"); the root ("") holds everything.
bool holds(std::string_view parent, std::string_view path);

}  // namespace tandem

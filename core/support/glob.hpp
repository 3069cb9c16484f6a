// Glob patterns over '/'-separated relative paths, as watch rules and build inputs write them.
#pragma once

#include <string_view>

namespace tandem {

// Whether `path` matches `pattern`, or lies below a directory that matches it.
//   `*` and `?`      any run of characters / one character within one segment
//   `[abc]` `[a-z]`  a character class; `[!x]` (or `[^x]`) negates it
//   `**`             as a whole segment: zero or more whole segments
//   `\x`             the character x itself
// `src` and `src/` both match `src/a/b.c`. A leading `./` (and any `.` segment or repeated
// `/`) is ignored on both sides. An empty pattern matches nothing; `.` matches everything.
bool glob_match(std::string_view pattern, std::string_view path);

}  // namespace tandem

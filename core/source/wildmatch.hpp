// git's wildmatch: the glob dialect of .gitignore lines, where `*`, `?` and `[...]` stop at `/`
// and `**` as a whole path segment crosses directories.
#pragma once

#include <string_view>

namespace tandem::detail {

enum class WildmatchMode {
    basename,  // the text is one name: `*` is free to match anything (there is no `/`)
    pathname,  // `*`, `?` and `[...]` never match `/`; `**/`, `/**` and `/**/` cross directories
};

// Whether `text` matches all of `pattern`. `\x` matches x itself; a `[` without its `]` or a
// trailing `\` makes the pattern match nothing, as in git.
bool wildmatch(std::string_view pattern, std::string_view text, WildmatchMode mode);

}  // namespace tandem::detail

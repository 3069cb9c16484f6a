// The built-in policy sets' YAML text, compiled into the library from policies/*.yaml by
// cmake/TandemEmbed.cmake (the definitions are generated into the build directory).
#pragma once

#include <string_view>
#include <vector>

namespace tandem::embedded {

// The text of policies/<stem>.yaml, or "" when no built-in file has that stem.
std::string_view builtin_policy_text(std::string_view stem);
// The stems of every embedded file, in the order CMake lists them.
std::vector<std::string_view> builtin_policy_text_names();

}  // namespace tandem::embedded

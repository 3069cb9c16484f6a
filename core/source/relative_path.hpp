// Paths relative to the top of a tree ("app/config"), as git stores them: checked and tidied.
#pragma once

#include <string>
#include <string_view>

namespace tandem::detail {

// A relative path that stays inside its root: no absolute path, no "..", no empty segment.
bool stays_inside(std::string_view path);

// The path without "." and empty segments: "./app//x/" → "app/x"; "" and "." → "".
std::string normalized(std::string_view path);

}  // namespace tandem::detail

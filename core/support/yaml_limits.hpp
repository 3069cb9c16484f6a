// Bounds on what a YAML document may expand to, checked in one pass over the parser's events
// before any node is converted: yaml-cpp keeps an alias as a shared node, so a small file of
// aliases ("billion laughs") only blows up when it is read into strings and lists.
#pragma once

#include <tandem/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace tandem::yaml {

// Far above any real project (the biggest example, examples/shop/tandem.yaml, is 2.3 KB,
// 135 nodes, 1.2 KB of scalars, 7 levels deep); documented in docs/config.md.
struct Limits {
    std::size_t max_file_bytes = 1024 * 1024;               // the text as read
    std::uint64_t max_nodes = 100'000;                       // every alias use counts the nodes it repeats
    std::uint64_t max_scalar_bytes = 16 * 1024 * 1024;       // every alias use counts the bytes it repeats
    int max_depth = 64;                                      // nesting, aliases expanded
};

// Ok when the first document of `text` stays within `limits` once every alias is expanded;
// otherwise an error at file:line:col of the node or alias use that crosses a bound, naming it.
// A syntax error is reported as yaml::parse reports it.
Status check_limits(std::string_view text, const std::string& file, const Limits& limits = {});

}  // namespace tandem::yaml

// The one containment rule for paths (see path_inside.hpp).
#include "support/path_inside.hpp"

#include <algorithm>
#include <vector>

namespace tandem {

InsideRoot inside_root(std::string_view relative) {
    if (relative.empty()) return {InsideRoot::Refusal::empty, {}};
    if (relative.front() == '/') return {InsideRoot::Refusal::absolute, {}};
    std::vector<std::string_view> kept;
    std::size_t start = 0;
    while (start <= relative.size()) {
        const std::size_t end = std::min(relative.find('/', start), relative.size());
        const std::string_view segment = relative.substr(start, end - start);
        if (segment == "..") {
            if (kept.empty()) return {InsideRoot::Refusal::leaves, {}};
            kept.pop_back();
        } else if (!segment.empty() && segment != ".") {
            kept.push_back(segment);
        }
        start = end + 1;
    }
    InsideRoot out;
    for (const auto segment : kept) {
        if (!out.path.empty()) out.path += '/';
        out.path += segment;
    }
    return out;
}

InsideRoot resolved_inside(const std::filesystem::path& root, const std::filesystem::path& path) {
    std::error_code ec;
    const auto real_root = std::filesystem::weakly_canonical(root, ec);
    if (ec) return {InsideRoot::Refusal::empty, {}};
    const auto real_path = std::filesystem::weakly_canonical(path, ec);
    if (ec) return {InsideRoot::Refusal::empty, {}};
    const std::string relative = real_path.lexically_relative(real_root).generic_string();
    if (relative.empty()) return {InsideRoot::Refusal::leaves, {}};  // no relative path between them
    return inside_root(relative);
}

bool holds(std::string_view parent, std::string_view path) {
    if (parent.empty()) return true;
    return path == parent || (path.size() > parent.size() && path.starts_with(parent) && path[parent.size()] == '/');
}

}  // namespace tandem

// Checking and tidying tree-relative paths (see relative_path.hpp).
#include "source/relative_path.hpp"

#include <algorithm>

namespace tandem::detail {

bool stays_inside(std::string_view path) {
    if (path.empty() || path.front() == '/') return false;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string_view segment = path.substr(start, end - start);
        if (segment == ".." || (segment.empty() && end != path.size())) return false;
        start = end + 1;
    }
    return true;
}

std::string normalized(std::string_view path) {
    std::string out;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string_view segment = path.substr(start, end - start);
        if (!segment.empty() && segment != ".") {
            if (!out.empty()) out += '/';
            out += segment;
        }
        start = end + 1;
    }
    return out;
}

}  // namespace tandem::detail

// Depth-first walk of a project tree that asks the ignore rules about every entry.
#include "source/tree_walk.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

namespace tandem::detail {

std::string join_relative(std::string_view directory, std::string_view name) {
    std::string joined(directory);
    if (!joined.empty()) joined += '/';
    joined += name;
    return joined;
}

namespace {

struct Child {
    std::string name;
    bool is_directory = false;
};

std::vector<Child> read_children(const std::filesystem::path& directory) {
    std::vector<Child> children;
    std::error_code error;
    std::filesystem::directory_iterator it(directory, error);
    if (error) return children;
    for (const auto end = std::filesystem::directory_iterator(); it != end; it.increment(error)) {
        if (error) break;
        std::error_code status_error;
        const auto status = it->symlink_status(status_error);
        if (status_error) continue;  // vanished while we looked
        children.push_back({it->path().filename().string(), std::filesystem::is_directory(status)});
    }
    std::sort(children.begin(), children.end(), [](const Child& a, const Child& b) { return a.name < b.name; });
    return children;
}

}  // namespace

void walk_tree(const IgnoreRules& rules, std::string_view start, const std::function<void(const TreeEntry&)>& visit) {
    // An explicit stack keeps deep trees off the call stack; children are pushed in reverse so
    // they come out in name order.
    std::vector<std::string> pending{std::string(start)};
    while (!pending.empty()) {
        const std::string directory = std::move(pending.back());
        pending.pop_back();
        const auto children = read_children(directory.empty() ? rules.root() : rules.root() / directory);
        std::vector<std::string> subdirectories;
        for (const auto& child : children) {
            TreeEntry entry;
            entry.path = join_relative(directory, child.name);
            entry.is_directory = child.is_directory;
            entry.match = rules.match(entry.path, entry.is_directory);
            if (entry.is_directory && !entry.match.ignored) subdirectories.push_back(entry.path);
            visit(entry);
        }
        pending.insert(pending.end(), subdirectories.rbegin(), subdirectories.rend());
    }
}

}  // namespace tandem::detail

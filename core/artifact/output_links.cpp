// Resolving the symlinks of an artifact inside it, and refusing the ones that leave.
#include "artifact/output_links.hpp"

#include "support/path_inside.hpp"

#include <fmt/format.h>

#include <deque>
#include <sys/stat.h>

namespace tandem::artifact {

namespace fs = std::filesystem;

namespace {

std::string joined(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : "/") + part;
    return out;
}

// "a/b/c" -> {"a", "b", "c"}; empty and "." parts dropped.
std::deque<std::string> parts_of(const std::string& path) {
    std::deque<std::string> parts;
    for (const auto& part : fs::path(path)) {
        const std::string text = part.string();
        if (!text.empty() && text != "." && text != "/") parts.push_back(text);
    }
    return parts;
}

// Where one link's chain ends, or why it leaves.
struct Resolution {
    std::string end;      // relative to the root, when it stays inside
    std::string leaves;   // "'out/b' -> '/tmp/x'": the hop that leaves; empty when inside
};

Result<Resolution> resolve(const fs::path& root, const std::string& link) {
    std::vector<std::string> at;  // the directories walked so far, relative to root
    for (auto& part : parts_of(fs::path(link).parent_path().string())) at.push_back(std::move(part));
    std::string current = link;
    std::deque<std::string> todo;
    for (int hops = 1;; ++hops) {
        if (hops > kMaxLinkHops)
            return make_error(ErrorCode::io,
                              fmt::format("output link '{}' is a chain of more than {} symlinks", link, kMaxLinkHops));
        std::error_code ec;
        const std::string target = fs::read_symlink(root / current, ec).string();
        if (ec)
            return make_error(ErrorCode::io,
                              fmt::format("cannot read symlink {}: {}", (root / current).string(), ec.message()));
        const std::string hop = fmt::format("'{}' -> '{}'", current, target);
        if (!target.empty() && target.front() == '/') return Resolution{{}, hop};
        std::deque<std::string> next = parts_of(target);
        todo.insert(todo.begin(), next.begin(), next.end());
        bool followed = false;
        while (!todo.empty() && !followed) {
            std::string part = std::move(todo.front());
            todo.pop_front();
            if (part == "..") {
                if (at.empty()) return Resolution{{}, hop};
                at.pop_back();
                continue;
            }
            at.push_back(std::move(part));
            struct stat info {};
            if (::lstat((root / joined(at)).c_str(), &info) == 0 && S_ISLNK(info.st_mode)) {
                current = joined(at);
                at.pop_back();  // the link's target replaces it
                followed = true;
            }
        }
        if (!followed) return Resolution{joined(at), {}};
    }
}

bool within(const std::string& path, const std::vector<std::string>& outputs) {
    for (const auto& output : outputs)
        if (holds(output, path)) return true;
    return false;
}

}  // namespace

Status check_links_stay_inside(const fs::path& root, const Manifest& manifest, const std::vector<std::string>& outputs) {
    for (const auto& [path, entry] : manifest) {
        if (entry.type != EntryType::symlink) continue;
        auto resolution = resolve(root, path);
        if (!resolution) return resolution.error();
        if (resolution->leaves.empty() && within(resolution->end, outputs)) continue;
        std::error_code ec;
        const std::string target = fs::read_symlink(root / path, ec).string();
        const std::string where = resolution->leaves.empty()
                                      ? fmt::format("it ends at '{}', which is not an output", resolution->end)
                                      : "it leaves the outputs at " + resolution->leaves;
        return make_error(
            ErrorCode::io,
            fmt::format("output '{}' is a symlink to '{}' outside the artifact ({}): the digest would cover the link, "
                        "not what runs; copy the file into the outputs (cp -L) or point the link inside them",
                        path, target, where));
    }
    return Ok{};
}

Status check_no_linked_parent(const fs::path& root, const std::string& relative) {
    std::string above;
    const auto parts = parts_of(fs::path(relative).parent_path().string());
    for (const auto& part : parts) {
        above += (above.empty() ? "" : "/") + part;
        struct stat info {};
        if (::lstat((root / above).c_str(), &info) != 0 || !S_ISLNK(info.st_mode)) continue;
        std::error_code ec;
        const std::string target = fs::read_symlink(root / above, ec).string();
        return make_error(ErrorCode::io, fmt::format("output '{}' lies under the symlink '{}' -> '{}': name the "
                                                     "directory it points to as the output instead",
                                                     relative, above, target));
    }
    return Ok{};
}

}  // namespace tandem::artifact

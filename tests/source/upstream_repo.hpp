// Repositories for the GitMirror tests, made with the git CLI: an upstream work tree to commit
// in, raw trees git itself would refuse to build, and the state directory a mirror lives in.
#pragma once

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <tandem/git_mirror.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace tandem::test {

inline std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    return text;
}

class UpstreamRepo {
public:
    UpstreamRepo() { git(path(), {"init", "-q"}); }

    const std::filesystem::path& path() const { return work_.path(); }
    std::string url() const { return path().string(); }
    void write(std::string_view relative, std::string_view content) const { work_.write(relative, content); }
    // git in the work tree, its output without the trailing newline.
    std::string run(const std::vector<std::string>& args) const { return trimmed(git(path(), args)); }

    // Commits everything in the work tree and returns the new commit's id.
    std::string commit(const std::string& message) const {
        run({"add", "-A"});
        run({"commit", "-q", "--allow-empty", "-m", message});
        return run({"rev-parse", "HEAD"});
    }

    // The id of a new blob with these bytes.
    std::string blob(std::string_view content) const {
        return run({"hash-object", "-w", scratch_.write("blob", content).string()});
    }

    struct RawEntry {
        std::string mode;  // "100644", "100755", "120000", "40000", "160000"
        std::string name;  // written as it is: "..", ".git", "a/b" are all allowed here
        std::string id;    // 40 hex digits
    };
    // A tree object written byte by byte ("<mode> <name>\0<20-byte id>" per entry), since
    // `git mktree` refuses the names these tests need. Entries are kept in the given order.
    std::string raw_tree(const std::vector<RawEntry>& entries) const {
        std::string bytes;
        for (const auto& entry : entries) {
            bytes += entry.mode + " " + entry.name + '\0';
            for (std::size_t i = 0; i < entry.id.size(); i += 2)
                bytes += static_cast<char>(std::stoi(entry.id.substr(i, 2), nullptr, 16));
        }
        const auto file = scratch_.write("tree", bytes);
        return run({"hash-object", "-w", "-t", "tree", "--literally", file.string()});
    }

    // A commit of `tree` on top of HEAD, made the branch `branch` upstream.
    std::string commit_tree(const std::string& tree, const std::string& branch) const {
        const std::string id = run({"commit-tree", tree, "-m", "crafted " + branch});
        run({"update-ref", "refs/heads/" + branch, id});
        return id;
    }

private:
    TempDir work_;
    TempDir scratch_;
};

// Where a mirror and its snapshots live. Snapshot directories are 0555, so they are made
// writable again before the TempDir removes them (it could not as any user but root).
class MirrorState {
public:
    MirrorState() = default;
    MirrorState(const MirrorState&) = delete;
    MirrorState& operator=(const MirrorState&) = delete;
    ~MirrorState() {
        namespace fs = std::filesystem;
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(dir_.path(), ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            std::error_code ignored;
            if (it->symlink_status(ignored).type() == fs::file_type::directory)
                fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ignored);
        }
    }

    std::filesystem::path mirror() const { return dir_.path() / "mirror"; }
    std::filesystem::path snapshots() const { return dir_.path() / "snapshots"; }

private:
    TempDir dir_;
};

// A mirror of `upstream` in `state`, fetched once.
inline GitMirror fetched_mirror(const MirrorState& state, const UpstreamRepo& upstream) {
    auto mirror = GitMirror::open(state.mirror(), upstream.url());
    REQUIRE_MESSAGE(mirror.ok(), mirror.error().message);
    auto fetched = mirror->fetch();
    REQUIRE_MESSAGE(fetched.ok(), fetched.error().message);
    return std::move(*mirror);
}

}  // namespace tandem::test

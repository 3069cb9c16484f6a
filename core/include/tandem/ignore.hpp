// Which files of a project count: git's ignore semantics (.gitignore files at every level,
// .git/info/exclude), the same syntax in .tandemignore files, and built-in rules for .git/,
// the state directory and editor temp files. It answers "why did my save not trigger?".
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

struct IgnoreMatch {
    bool ignored = false;
    std::string source;   // ".gitignore", "web/.gitignore", ".tandemignore", ".git/info/exclude", "built-in"
    int line = 0;         // the rule's line in `source` (0 for built-in rules)
    std::string pattern;  // the rule as written ("!keep.log", "build/", "*.swp")
    bool decided() const { return !source.empty(); }  // false: no rule matched (the path counts)
};

class IgnoreRules {
public:
    // Reads every .gitignore and .tandemignore below `root` (each applies to its own directory
    // and below, deeper files overriding shallower ones, later lines overriding earlier ones),
    // and .git/info/exclude. `state_dirs` (relative to root) are ignored as built-in rules, as are
    // .git/ and editor temp files (vim .swp/.swx/~ and 4913, emacs #name# and .#name, JetBrains
    // ___jb_tmp___/___jb_old___).
    static Result<IgnoreRules> load(const std::filesystem::path& root, std::vector<std::string> state_dirs = {".tandem"});

    IgnoreRules(IgnoreRules&&) noexcept;
    IgnoreRules& operator=(IgnoreRules&&) noexcept;
    ~IgnoreRules();

    // The rule that decides `relative_path` ('/'-separated, relative to root), with git's
    // semantics: a path inside an ignored directory is ignored, and cannot be re-included by a
    // negation below it.
    IgnoreMatch match(std::string_view relative_path, bool is_directory) const;

    // True if `relative_path` is an ignore file (.gitignore, .tandemignore, .git/info/exclude)
    // whose change requires reload().
    static bool is_ignore_file(std::string_view relative_path);
    // Rereads every ignore file (after one of them changed).
    Status reload();

    const std::filesystem::path& root() const;

private:
    struct State;
    explicit IgnoreRules(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

struct TreeEntry {
    std::string path;  // relative to root
    bool is_directory = false;
    IgnoreMatch match;
};

// Every file below root with the rule that decides it; an ignored directory is listed once and
// not descended into. With `include_ignored` false, only the files that count.
std::vector<TreeEntry> list_tree(const IgnoreRules& rules, bool include_ignored);

}  // namespace tandem

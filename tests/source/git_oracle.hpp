// Asks real git which paths of a tree are ignored, by which file, line and pattern, so the
// ignore tests compare IgnoreRules with git itself rather than with our reading of its manual.
#pragma once

#include "support/run_command.hpp"

#include <tandem/ignore.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tandem::test {

struct GitVerdict {
    bool ignored = false;
    std::string source;   // empty when no pattern matched
    int line = 0;
    std::string pattern;  // with `!` for negations and `/` for directory-only, as git prints it
};

// `git check-ignore --no-index -v -n -z` over `paths` (relative to `repo`).
inline std::map<std::string, GitVerdict> git_check_ignore(const std::filesystem::path& repo,
                                                          const std::vector<std::string>& paths) {
    std::map<std::string, GitVerdict> verdicts;
    // -z needs --stdin, and run_command gives no stdin: the list goes through a file in .git.
    const auto list_file = repo / ".git" / "tandem-check-ignore-paths";
    {
        std::ofstream list(list_file, std::ios::binary);
        for (const auto& path : paths) list << path << '\0';
    }
    {
        const auto result = run_command({"sh", "-c",
                                         "exec git -c core.excludesFile=/dev/null check-ignore --no-index -v -n -z "
                                         "--stdin < \"$0\"",
                                         list_file.string()},
                                        repo);
        if (result.exit_code != 0 && result.exit_code != 1) throw std::runtime_error("git check-ignore: " + result.err);
        std::vector<std::string> fields;
        std::size_t begin = 0;
        for (std::size_t nul = result.out.find('\0'); nul != std::string::npos; nul = result.out.find('\0', begin)) {
            fields.push_back(result.out.substr(begin, nul - begin));
            begin = nul + 1;
        }
        for (std::size_t i = 0; i + 3 < fields.size(); i += 4) {
            GitVerdict verdict;
            verdict.source = fields[i];
            verdict.line = fields[i + 1].empty() ? 0 : std::stoi(fields[i + 1]);
            verdict.pattern = fields[i + 2];
            verdict.ignored = !verdict.source.empty() && verdict.pattern.rfind('!', 0) != 0;
            verdicts[fields[i + 3]] = verdict;
        }
    }
    return verdicts;
}

// Every file and directory below `root` except .git, as relative paths with their kind.
inline std::map<std::string, bool> all_paths(const std::filesystem::path& root) {
    std::map<std::string, bool> paths;
    for (auto it = std::filesystem::recursive_directory_iterator(root); it != decltype(it)(); ++it) {
        if (it->path().filename() == ".git") {
            it.disable_recursion_pending();
            continue;
        }
        paths[std::filesystem::relative(it->path(), root).generic_string()] = it->is_directory();
    }
    return paths;
}

// Checks that IgnoreRules agrees with git on every path below root; returns how many were compared.
inline std::size_t compare_with_git(const std::filesystem::path& root) {
    auto rules = IgnoreRules::load(root, {});
    REQUIRE(rules.ok());
    const auto paths = all_paths(root);
    std::vector<std::string> names;
    for (const auto& [path, is_directory] : paths) names.push_back(path);
    const auto verdicts = git_check_ignore(root, names);
    REQUIRE(verdicts.size() == paths.size());
    for (const auto& [path, is_directory] : paths) {
        const auto& git = verdicts.at(path);
        const auto ours = rules->match(path, is_directory);
        INFO("path: " << path << (is_directory ? "/" : "") << "  git: " << git.source << ":" << git.line << ":"
                      << git.pattern << "  ours: " << ours.source << ":" << ours.line << ":" << ours.pattern);
        CHECK(ours.ignored == git.ignored);
        CHECK(ours.source == git.source);
        CHECK(ours.line == git.line);
        CHECK(ours.pattern == git.pattern);
    }
    return paths.size();
}

}  // namespace tandem::test

// IgnoreRules beyond git: .tandemignore, built-in rules (editor temp files, .git/, the state
// directory), reload, list_tree, pattern parsing details and errors.
#include "support/temp_dir.hpp"

#include "source/gitignore_pattern.hpp"
#include "source/wildmatch.hpp"

#include <tandem/ignore.hpp>

#include <doctest/doctest.h>

#include <algorithm>

namespace fs = std::filesystem;
using tandem::IgnoreRules;
using tandem::list_tree;
using tandem::test::TempDir;

TEST_CASE("ignore: .tandemignore overrides the .gitignore of its own directory, and deeper files win") {
    TempDir tmp;
    tmp.write(".gitignore", "*.gen\n");
    tmp.write(".tandemignore", "!*.gen\n*.cache\n");
    tmp.write("web/.gitignore", "*.cache\n!*.cache\n");
    tmp.write("web/.tandemignore", "keep.cache\n");
    auto rules = IgnoreRules::load(tmp.path());
    REQUIRE(rules.ok());

    const auto generated = rules->match("a.gen", false);
    CHECK_FALSE(generated.ignored);
    CHECK(generated.source == ".tandemignore");
    CHECK(generated.line == 1);
    CHECK(generated.pattern == "!*.gen");
    CHECK(rules->match("x.cache", false).ignored);
    const auto web = rules->match("web/x.cache", false);
    CHECK_FALSE(web.ignored);  // web/.gitignore (deeper) beats the root's .tandemignore
    CHECK(web.source == "web/.gitignore");
    CHECK(web.line == 2);
    const auto keep = rules->match("web/keep.cache", false);
    CHECK(keep.ignored);  // web/.tandemignore beats web/.gitignore
    CHECK(keep.source == "web/.tandemignore");
}

TEST_CASE("ignore: editor temp files, .git/ and the state directory are ignored by built-in rules") {
    TempDir tmp;
    tmp.write(".gitignore", "!*.swp\n");  // a built-in rule cannot be negated by a project file
    auto rules = IgnoreRules::load(tmp.path(), {".tandem", "var/state/"});
    REQUIRE(rules.ok());
    for (const char* path : {"a.swp", "src/.main.c.swx", "b.swo", "notes.txt~", "4913", "src/4913", "#draft.md#",
                             ".#draft.md", "Main.java___jb_tmp___", "Main.java___jb_old___", ".git/config",
                             "sub/.git/HEAD", ".tandem/state.json", "var/state/x"}) {
        CAPTURE(path);
        const auto decision = rules->match(path, false);
        CHECK(decision.ignored);
        CHECK(decision.source == "built-in");
        CHECK(decision.line == 0);
    }
    CHECK(rules->match(".git", true).pattern == ".git");
    CHECK(rules->match("#draft.md#", false).pattern == "#*#");
    CHECK(rules->match(".tandem", true).pattern == ".tandem/");
    CHECK(rules->match("var/state", true).pattern == "var/state/");
    for (const char* path : {"a.swap", "4914", "#draft.md", "src/.tandem/x", "main.c", "jb_tmp", "var/x"}) {
        CAPTURE(path);
        CHECK_FALSE(rules->match(path, false).ignored);
        CHECK_FALSE(rules->match(path, false).decided());
    }
}

TEST_CASE("ignore: a negation below an excluded directory cannot re-include, and the parent's rule is reported") {
    TempDir tmp;
    tmp.write(".gitignore", "logs/\n!logs/keep.txt\n");
    tmp.write("logs/.gitignore", "!keep.txt\n");
    auto rules = IgnoreRules::load(tmp.path());
    REQUIRE(rules.ok());
    const auto decision = rules->match("logs/keep.txt", false);
    CHECK(decision.ignored);
    CHECK(decision.source == ".gitignore");
    CHECK(decision.line == 1);
    CHECK(decision.pattern == "logs/");
}

TEST_CASE("ignore: reload picks up edited, new and deleted ignore files - is_ignore_file knows them") {
    TempDir tmp;
    tmp.write(".gitignore", "*.tmp\n");
    auto rules = IgnoreRules::load(tmp.path());
    REQUIRE(rules.ok());
    CHECK(rules->match("a.tmp", false).ignored);
    tmp.write(".gitignore", "*.bak\n");
    tmp.write("deep/er/.tandemignore", "*.x\n");
    REQUIRE(rules->reload().ok());
    CHECK_FALSE(rules->match("a.tmp", false).ignored);
    CHECK(rules->match("a.bak", false).ignored);
    CHECK(rules->match("deep/er/y.x", false).ignored);
    CHECK_FALSE(rules->match("deep/y.x", false).ignored);
    fs::remove(tmp.path() / ".gitignore");
    REQUIRE(rules->reload().ok());
    CHECK_FALSE(rules->match("a.bak", false).ignored);

    CHECK(IgnoreRules::is_ignore_file(".gitignore"));
    CHECK(IgnoreRules::is_ignore_file("web/.tandemignore"));
    CHECK(IgnoreRules::is_ignore_file(".git/info/exclude"));
    CHECK_FALSE(IgnoreRules::is_ignore_file("web/gitignore"));
    CHECK_FALSE(IgnoreRules::is_ignore_file("web/.gitignore.orig"));
}

TEST_CASE("ignore: an unreadable root is an error naming the path") {
    auto rules = IgnoreRules::load("/nonexistent/tandem-project");
    REQUIRE_FALSE(rules.ok());
    CHECK(rules.error().code == tandem::ErrorCode::io);
    CHECK(rules.error().message.find("/nonexistent/tandem-project") != std::string::npos);
}

TEST_CASE("ignore: list_tree lists the files that count, and with include_ignored each ignored entry once") {
    TempDir tmp;
    tmp.write(".gitignore", "build/\n*.o\n");
    tmp.write("src/main.c", "");
    tmp.write("src/main.o", "");
    tmp.write("build/a/b/c.txt", "");
    tmp.write("README", "");
    tmp.write(".tandem/state", "");
    fs::create_directories(tmp.path() / "empty");
    fs::create_directory_symlink(tmp.path() / "src", tmp.path() / "link");
    auto rules = IgnoreRules::load(tmp.path());
    REQUIRE(rules.ok());

    std::vector<std::string> counted;
    for (const auto& entry : list_tree(*rules, false)) counted.push_back(entry.path);
    CHECK(counted == std::vector<std::string>{".gitignore", "README", "link", "src/main.c"});

    const auto everything = list_tree(*rules, true);
    std::vector<std::string> listed;
    for (const auto& entry : everything) listed.push_back(entry.path + (entry.is_directory ? "/" : ""));
    CHECK(listed == std::vector<std::string>{".gitignore", ".tandem/", "README", "build/", "link", "src/main.c",
                                             "src/main.o"});
    const auto build = std::find_if(everything.begin(), everything.end(), [](auto& e) { return e.path == "build"; });
    REQUIRE(build != everything.end());
    CHECK(build->match.source == ".gitignore");
    CHECK(build->match.line == 1);
    CHECK(build->match.pattern == "build/");
}

TEST_CASE("ignore: line parsing — comments, escapes, trailing spaces, CRLF") {
    using tandem::detail::GitignorePattern;
    CHECK_FALSE(GitignorePattern::parse("# comment", 1));
    CHECK_FALSE(GitignorePattern::parse("", 1));
    CHECK_FALSE(GitignorePattern::parse("   ", 1));
    CHECK(GitignorePattern::parse("\\#x", 1)->matches("#x", "#x", false));
    CHECK(GitignorePattern::parse("\\!x", 1)->matches("!x", "!x", false));
    CHECK_FALSE(GitignorePattern::parse("\\!x", 1)->negated());
    CHECK(GitignorePattern::parse("a  ", 1)->matches("a", "a", false));
    CHECK(GitignorePattern::parse("a\\ ", 1)->matches("a ", "a ", false));
    CHECK_FALSE(GitignorePattern::parse("a\\ ", 1)->matches("a", "a", false));
    CHECK(GitignorePattern::parse("a\r", 1)->matches("a", "a", false));
    CHECK(GitignorePattern::parse("!/x/", 3)->as_written() == "!/x/");
    const auto dir_only = GitignorePattern::parse("x/", 1);
    CHECK(dir_only->matches("x", "x", true));
    CHECK_FALSE(dir_only->matches("x", "x", false));
}

TEST_CASE("ignore: wildmatch — classes, ranges and stars stop at '/', ** crosses") {
    using tandem::detail::wildmatch;
    constexpr auto path = tandem::detail::WildmatchMode::pathname;
    CHECK(wildmatch("a/*/c", "a/b/c", path));
    CHECK_FALSE(wildmatch("a/*", "a/b/c", path));
    CHECK_FALSE(wildmatch("a?b", "a/b", path));
    CHECK_FALSE(wildmatch("a[/]b", "a/b", path));
    CHECK(wildmatch("[a-c]x", "bx", path));
    CHECK_FALSE(wildmatch("[!a-c]x", "bx", path));
    CHECK(wildmatch("[^a-c]x", "dx", path));
    CHECK(wildmatch("[]]", "]", path));
    CHECK(wildmatch("[[:digit:]]x", "7x", path));
    CHECK_FALSE(wildmatch("[abc", "a", path));  // an unclosed class matches nothing
    CHECK(wildmatch("**/z", "z", path));
    CHECK(wildmatch("**/z", "a/b/z", path));
    CHECK(wildmatch("a/**", "a/b/c", path));
    CHECK_FALSE(wildmatch("a/**", "a", path));
    CHECK(wildmatch("a/**/z", "a/z", path));
    CHECK(wildmatch("a/**/z", "a/b/c/z", path));
    CHECK_FALSE(wildmatch("a**z", "a/b/z", path));  // not a whole segment: a plain star
    CHECK(wildmatch("\\*", "*", path));
    CHECK_FALSE(wildmatch("\\*", "x", path));
}

// IgnoreRules against real `git check-ignore` on trees that exercise every gitignore rule, and on
// generated trees with many generated patterns.
#include "git_oracle.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <random>

namespace fs = std::filesystem;
using tandem::IgnoreRules;
using tandem::test::compare_with_git;
using tandem::test::git;
using tandem::test::TempDir;

namespace {

void touch(const TempDir& tmp, const std::vector<std::string>& files) {
    for (const auto& file : files) tmp.write(file, "x\n");
}

}  // namespace

TEST_CASE("git semantics: a tree covering every rule agrees with git check-ignore") {
    TempDir tmp;
    git(tmp.path(), {"init", "-q"});
    tmp.write(".gitignore",
              "# a comment\n"
              "\n"
              "*.log\n"
              "!keep.log\n"
              "/build/\n"
              "docs/*.html\n"
              "**/cache\n"
              "temp/**\n"
              "!temp/sub/keep.txt\n"
              "a/**/z.txt\n"
              "\\#hash\n"
              "\\!bang\n"
              "trailing   \n"
              "escaped\\ \n"
              "vendor/\n"
              "out\n"
              "[abc].dat\n"
              "[!x]y.tmp\n"
              "[0-9][0-9].num\n"
              "?.q\n"
              "dironly/\n"
              "crlf.txt\r\n"
              "mid/dle/*.c\n"
              "*.o\n"
              "!important.o\n"
              "pre**/fix.t\n"
              "**/foo/**\n"
              "*/onelevel.t\n"
              "[[:upper:]]*.caps\n"
              "star\\*lit\n"
              "/**/anywhere.t\n"
              "tail/**/\n");
    tmp.write("src/.gitignore", "!*.log\ngenerated/\n/local.txt\ndeep/**/x\n*.o   \n");
    tmp.write("lib/.gitignore", "*\n!*.c\n!*/\n");
    tmp.write("vendor/.gitignore", "!keep.txt\n");
    tmp.write("out/.gitignore", "!x\n");
    tmp.write(".git/info/exclude", "*.excl\n/rooted_excl\n");
    tmp.write("sub/.gitignore", "!special.excl\n");
    touch(tmp, {"app.log",          "keep.log",        "nested/app.log",      "nested/keep.log",
                "build/out.bin",    "src/build/ok.c",  "docs/index.html",     "docs/deep/index.html",
                "x/cache/c1",       "cache/c2",        "x/y/cache",           "temp/a",
                "temp/sub/keep.txt", "a/z.txt",        "a/b/z.txt",           "a/b/c/z.txt",
                "#hash",            "!bang",           "trailing",            "escaped ",
                "vendor/keep.txt",  "vendor/lib.c",    "out/x",               "out/y",
                "a.dat",            "d.dat",           "ay.tmp",              "xy.tmp",
                "42.num",           "4x.num",          "q.q",                 "qq.q",
                "dironly",          "sub/dironly/f",   "crlf.txt",            "mid/dle/f.c",
                "mid/dle/g/f.c",    "x/mid/dle/f.c",   "main.o",              "important.o",
                "src/app.log",      "src/generated/g", "src/local.txt",       "src/x/local.txt",
                "src/deep/x",       "src/deep/1/2/x",  "src/m.o",             "src/important.o",
                "lib/a.c",          "lib/a.h",         "lib/inner/b.c",       "lib/inner/b.h",
                "file.excl",        "sub/special.excl", "sub/other.excl",     "rooted_excl",
                "sub/rooted_excl",  "plain.txt",       "pre/fix.t",           "pre/a/b/fix.t",
                "prex/fix.t",       "foo/bar/baz",     "z/foo/q",             "w/onelevel.t",
                "w/v/onelevel.t",   "ABC.caps",        "abc.caps",            "star*lit",
                "starxlit",         "anywhere.t",      "q/r/anywhere.t",      "tail/f",
                "tail/d/f"});
    const auto compared = compare_with_git(tmp.path());
    CHECK(compared > 60);

    // A few verdicts spelled out, so a git quirk that we share is at least visible here.
    auto rules = IgnoreRules::load(tmp.path(), {});
    REQUIRE(rules.ok());
    CHECK(rules->match("nested/app.log", false).ignored);
    CHECK_FALSE(rules->match("nested/keep.log", false).ignored);
    const auto under_excluded = rules->match("vendor/keep.txt", false);
    CHECK(under_excluded.ignored);  // vendor/ is excluded: its !keep.txt cannot re-include
    CHECK(under_excluded.pattern == "vendor/");
    CHECK(rules->match("temp/sub/keep.txt", false).ignored);
    CHECK_FALSE(rules->match("src/app.log", false).ignored);
    CHECK(rules->match("lib/inner/b.h", false).ignored);
    CHECK_FALSE(rules->match("lib/inner/b.c", false).ignored);
    const auto excluded = rules->match("file.excl", false);
    CHECK(excluded.source == ".git/info/exclude");
    CHECK(excluded.line == 1);
    CHECK_FALSE(rules->match("sub/special.excl", false).ignored);
}

namespace {

// A pattern built from pieces that stress anchors, `**`, classes, negation and dir-only.
std::string random_pattern(std::mt19937& random) {
    static const std::vector<std::string> segments{"a", "b", "ab", "x.log", "*", "?", "[ab]", "[!a]*", "**",
                                                   "*.log", "a*", "[a-c]", "*b", "d?", "c", "x*", "[ax]*.t"};
    auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random); };
    std::string pattern;
    if (pick(4) == 0) pattern += '!';
    if (pick(4) == 0) pattern += '/';
    const std::size_t count = 1 + pick(3);
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) pattern += '/';
        pattern += segments[pick(segments.size())];
    }
    if (pick(4) == 0) pattern += '/';
    return pattern;
}

void build_random_tree(const TempDir& tmp, std::mt19937& random) {
    static const std::vector<std::string> names{"a", "b", "ab", "c", "x.log", "y.t", "at.t", "d1", "ba", "xb"};
    auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random); };
    std::vector<std::string> directories{""};
    for (int i = 0; i < 40; ++i) {
        const auto& parent = directories[pick(directories.size())];
        if (std::count(parent.begin(), parent.end(), '/') >= 3) continue;
        const auto child = parent.empty() ? names[pick(names.size())] : parent + "/" + names[pick(names.size())];
        fs::create_directories(tmp.path() / child);
        directories.push_back(child);
    }
    for (int i = 0; i < 120; ++i) {
        const auto& parent = directories[pick(directories.size())];
        const auto file = (parent.empty() ? "" : parent + "/") + names[pick(names.size())];
        if (!fs::is_directory(tmp.path() / file)) tmp.write(file, "x\n");
    }
    for (const auto& directory : directories) {
        if (pick(2) == 0) continue;
        std::string lines;
        const std::size_t count = 2 + pick(6);
        for (std::size_t i = 0; i < count; ++i) lines += random_pattern(random) + "\n";
        tmp.write((directory.empty() ? "" : directory + "/") + ".gitignore", lines);
    }
}

}  // namespace

TEST_CASE("git semantics: generated trees with generated patterns agree with git check-ignore") {
    for (unsigned seed : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u}) {
        CAPTURE(seed);
        TempDir tmp;
        git(tmp.path(), {"init", "-q"});
        std::mt19937 random(seed);
        build_random_tree(tmp, random);
        CHECK(compare_with_git(tmp.path()) > 50);
    }
}

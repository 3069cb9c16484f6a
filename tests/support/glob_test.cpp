// Tests of the glob matcher that maps changed paths to watch rules and build inputs.
#include "support/glob.hpp"

#include <doctest/doctest.h>

#include <string>

using tandem::glob_match;

TEST_CASE("glob: a literal path matches itself and nothing else") {
    CHECK(glob_match("src/main.c", "src/main.c"));
    CHECK_FALSE(glob_match("src/main.c", "src/main.cc"));
    CHECK_FALSE(glob_match("src/main.c", "src/main"));
    CHECK_FALSE(glob_match("src/main.c", "lib/main.c"));
    CHECK_FALSE(glob_match("main.c", "src/main.c"));  // patterns are anchored at the root
}

TEST_CASE("glob: * and ? stay within one segment") {
    CHECK(glob_match("src/*.c", "src/main.c"));
    CHECK(glob_match("src/*.c", "src/.c"));
    CHECK(glob_match("*", "README"));
    CHECK(glob_match("src/*", "src/a"));
    CHECK_FALSE(glob_match("*.c", "src/main.c"));
    CHECK_FALSE(glob_match("src/*.c", "src/a/main.c"));
    CHECK_FALSE(glob_match("src/*.c", "src/main.h"));
    CHECK(glob_match("src/?.c", "src/a.c"));
    CHECK_FALSE(glob_match("src/?.c", "src/ab.c"));
    CHECK_FALSE(glob_match("src/?.c", "src/.c"));
    CHECK_FALSE(glob_match("a?b", "a/b"));
    CHECK(glob_match("a*b*c", "aXXbYYc"));
    CHECK(glob_match("a*b*c", "abbbc"));
    CHECK_FALSE(glob_match("a*b*c", "abbbcd"));
    CHECK(glob_match("*.tar.gz", "x.tar.gz"));
    CHECK(glob_match("**x", "abx"));  // `**` inside a segment is just a star
}

TEST_CASE("glob: character classes") {
    CHECK(glob_match("file[abc].txt", "fileb.txt"));
    CHECK_FALSE(glob_match("file[abc].txt", "filed.txt"));
    CHECK(glob_match("v[0-9]", "v7"));
    CHECK_FALSE(glob_match("v[0-9]", "vx"));
    CHECK(glob_match("[a-cx-z]", "y"));
    CHECK_FALSE(glob_match("[a-cx-z]", "m"));
    CHECK(glob_match("[!x]y", "ay"));
    CHECK_FALSE(glob_match("[!x]y", "xy"));
    CHECK(glob_match("[^x]y", "ay"));
    CHECK_FALSE(glob_match("[^x]y", "xy"));
    CHECK(glob_match("[]]", "]"));    // a leading ] is a member
    CHECK(glob_match("[a-]", "-"));   // a trailing - is a member
    CHECK(glob_match("[!]]", "a"));
    CHECK_FALSE(glob_match("[!]]", "]"));
    CHECK_FALSE(glob_match("[ab]", "/"));
    CHECK(glob_match("a[", "a["));    // an unterminated class is a literal '['
    CHECK_FALSE(glob_match("a[", "ab"));
    CHECK(glob_match("*[0-9].log", "app12.log"));
}

TEST_CASE("glob: backslash escapes a special character") {
    CHECK(glob_match("a\\*b", "a*b"));
    CHECK_FALSE(glob_match("a\\*b", "axb"));
    CHECK(glob_match("\\[x]", "[x]"));
    CHECK_FALSE(glob_match("\\[x]", "x"));
    CHECK(glob_match("q\\?", "q?"));
    CHECK_FALSE(glob_match("q\\?", "qa"));
}

TEST_CASE("glob: ** matches zero or more whole segments") {
    CHECK(glob_match("src/**/*.c", "src/main.c"));
    CHECK(glob_match("src/**/*.c", "src/a/main.c"));
    CHECK(glob_match("src/**/*.c", "src/a/b/c/main.c"));
    CHECK_FALSE(glob_match("src/**/*.c", "lib/a/main.c"));
    CHECK_FALSE(glob_match("src/**/*.c", "src/a/main.h"));
    CHECK(glob_match("**/*.c", "main.c"));
    CHECK(glob_match("**/*.c", "a/b/main.c"));
    CHECK(glob_match("**", "anything/at/all"));
    CHECK(glob_match("**/test/**", "test/x"));
    CHECK(glob_match("**/test/**", "a/b/test/c/d"));
    CHECK_FALSE(glob_match("**/test/**", "a/b/testing/c"));
    CHECK(glob_match("a/**/b/**/c", "a/b/c"));
    CHECK(glob_match("a/**/b/**/c", "a/x/b/y/z/c"));
    CHECK_FALSE(glob_match("a/**/b/**/c", "a/x/y/c"));
    CHECK(glob_match("src/**", "src/a/b"));
}

TEST_CASE("glob: a pattern matches every path below a directory it matches") {
    CHECK(glob_match("src", "src/a/b.c"));
    CHECK(glob_match("src/", "src/a/b.c"));
    CHECK(glob_match("src", "src"));
    CHECK(glob_match("src/", "src"));
    CHECK_FALSE(glob_match("src", "srcs/a.c"));
    CHECK_FALSE(glob_match("src", "lib/src/a.c"));
    CHECK(glob_match("*/static", "web/static/css/site.css"));
    CHECK(glob_match("web/[st]*", "web/static/site.css"));
    CHECK_FALSE(glob_match("src/a", "src"));  // a directory does not match what is inside it
}

TEST_CASE("glob: a leading ./ and repeated slashes are ignored") {
    CHECK(glob_match("./src/*.c", "src/main.c"));
    CHECK(glob_match("src/*.c", "./src/main.c"));
    CHECK(glob_match("./src//*.c", "src/./main.c"));
    CHECK(glob_match(".", "anything"));
    CHECK_FALSE(glob_match("", "anything"));
    CHECK_FALSE(glob_match("", ""));
}

TEST_CASE("glob: hidden files and dots are ordinary characters") {
    CHECK(glob_match("*", ".env"));
    CHECK(glob_match(".*", ".gitignore"));
    CHECK_FALSE(glob_match(".*", "gitignore"));
    CHECK(glob_match("config/.env*", "config/.env.local"));
}

TEST_CASE("glob: many stars do not blow up") {
    const std::string path = std::string(60, 'a') + "/" + std::string(60, 'a') + "/b";
    CHECK_FALSE(glob_match("**/**/**/**/**/**/*a*a*a*a*a*c", path));
    CHECK(glob_match("**/**/**/**/**/**/b", path));
}

// .dockerignore with Docker's rules (moby's patternmatcher), not .gitignore's.
#include "runtime/docker/docker_ignore.hpp"

#include <doctest/doctest.h>

using namespace tandem;
using tandem::docker::DockerIgnore;

namespace {

DockerIgnore parsed(std::string_view text) {
    auto ignore = DockerIgnore::parse(text);
    REQUIRE_MESSAGE(ignore.ok(), (ignore ? "" : ignore.error().to_string()));
    return std::move(*ignore);
}

}  // namespace

TEST_CASE("dockerignore: '*' stays within a segment and a pattern also excludes what lies below a match") {
    const DockerIgnore ignore = parsed("*.md\ndocs\n");
    CHECK(ignore.excludes("README.md"));
    CHECK(!ignore.excludes("src/README.md"));  // unlike .gitignore, '*.md' is anchored at the root
    CHECK(ignore.excludes("docs"));
    CHECK(ignore.excludes("docs/a/b.txt"));  // below an excluded directory
    CHECK(!ignore.excludes("documents/a.txt"));
}

TEST_CASE("dockerignore: '**' spans any number of segments, '?' and classes match one character") {
    const DockerIgnore ignore = parsed("**/*.log\nfile?.txt\n[a-c].bin\n[^a-c].dat\ndir/*/x\n");
    CHECK(ignore.excludes("a.log"));
    CHECK(ignore.excludes("deep/down/here/a.log"));
    CHECK(ignore.excludes("file1.txt"));
    CHECK(!ignore.excludes("file10.txt"));
    CHECK(ignore.excludes("b.bin"));
    CHECK(!ignore.excludes("d.bin"));
    CHECK(ignore.excludes("d.dat"));
    CHECK(!ignore.excludes("a.dat"));
    CHECK(ignore.excludes("dir/sub/x"));
    CHECK(!ignore.excludes("dir/sub/deeper/x"));
}

TEST_CASE("dockerignore: the last matching pattern decides and '!' brings a path back") {
    const DockerIgnore ignore = parsed("docs\n!docs/keep.txt\n*.tmp\n!important.tmp\n");
    CHECK(ignore.excludes("docs/other.txt"));
    CHECK(!ignore.excludes("docs/keep.txt"));
    CHECK(ignore.excludes("x.tmp"));
    CHECK(!ignore.excludes("important.tmp"));
    CHECK(ignore.has_exceptions());
    const DockerIgnore later = parsed("!keep.txt\n*.txt\n");  // an exception before the rule loses
    CHECK(later.excludes("keep.txt"));
}

TEST_CASE("dockerignore: patterns are cleaned like Go's filepath.Clean, comments and blank lines skipped") {
    const DockerIgnore ignore = parsed("# a comment\n\n  /secret  \na/../b\n./c//d/\n");
    CHECK(ignore.excludes("secret"));
    CHECK(ignore.excludes("b"));
    CHECK(!ignore.excludes("a/b"));
    CHECK(ignore.excludes("c/d/e"));
    CHECK(!ignore.excludes("# a comment"));
    CHECK(docker::clean_path("a//b/./c/../d/") == "a/b/d");
    CHECK(docker::clean_path("") == ".");
    CHECK(docker::clean_path("/../x") == "/x");
}

TEST_CASE("dockerignore: keep() wins over an earlier exclusion, as the Dockerfile always does") {
    DockerIgnore ignore = parsed("*\n");
    CHECK(ignore.excludes("Dockerfile"));
    ignore.keep("Dockerfile");
    CHECK(!ignore.excludes("Dockerfile"));
    CHECK(ignore.excludes("other"));
}

TEST_CASE("dockerignore: a bad pattern is an error naming file, line and column") {
    auto bang = DockerIgnore::parse("ok\n!\n", "ctx/.dockerignore");
    REQUIRE(!bang.ok());
    CHECK(bang.error().to_string() == "ctx/.dockerignore:2:1: '!' without a pattern");
    auto bracket = DockerIgnore::parse("[abc\n", "ctx/.dockerignore");
    REQUIRE(!bracket.ok());
    CHECK(bracket.error().to_string() == "ctx/.dockerignore:1:1: pattern '[abc': '[' has no closing ']'");
}

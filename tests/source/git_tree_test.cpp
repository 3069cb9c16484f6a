// Reading a project from a commit of a real repository made by the test.
#include <doctest/doctest.h>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <tandem/git_tree.hpp>

#include <fstream>

namespace fs = std::filesystem;
using tandem::GitLocation;
using tandem::GitTree;
using tandem::test::git;
using tandem::test::TempDir;

TEST_CASE("a file is read as committed, and the working tree does not matter") {
    TempDir tmp;
    tmp.write("app/tandem.yaml", "version: 1\n");
    git(tmp.path(), {"init", "-q"});
    git(tmp.path(), {"add", "-A"});
    git(tmp.path(), {"commit", "-q", "-m", "one"});
    tmp.write("app/tandem.yaml", "edited, not committed\n");

    auto location = GitTree::locate(tmp.path() / "app");
    REQUIRE(location.ok());
    CHECK(location->project_dir == "app");
    auto tree = GitTree::open(*location);
    REQUIRE(tree.ok());
    CHECK(tree->commit().size() == 40);
    CHECK(tree->prefix() == "app");
    auto text = tree->read("tandem.yaml");
    REQUIRE(text.ok());
    CHECK(*text == "version: 1\n");
}

TEST_CASE("reads that leave the project, symlinks and missing files are refused") {
    TempDir tmp;
    tmp.write("app/tandem.yaml", "version: 1\n");
    tmp.write("secret.txt", "top secret\n");
    fs::create_symlink("../secret.txt", tmp.path() / "app/link.txt");
    git(tmp.path(), {"init", "-q"});
    git(tmp.path(), {"add", "-A"});
    git(tmp.path(), {"commit", "-q", "-m", "one"});

    auto tree = GitTree::open(GitLocation{tmp.path(), "HEAD", "app"});
    REQUIRE(tree.ok());
    auto up = tree->read("../secret.txt");
    REQUIRE_FALSE(up.ok());
    CHECK(up.error().message.find("leaves the project") != std::string::npos);
    auto absolute = tree->read("/etc/passwd");
    CHECK_FALSE(absolute.ok());
    auto link = tree->read("link.txt");
    REQUIRE_FALSE(link.ok());
    CHECK(link.error().message.find("symlink") != std::string::npos);
    auto missing = tree->read("nope.yaml");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("no such file") != std::string::npos);
    auto escape = GitTree::open(GitLocation{tmp.path(), "HEAD", "../elsewhere"});
    CHECK_FALSE(escape.ok());
    // An absolute project directory is not read as a relative one ("/app" was "app").
    auto absolute_dir = GitTree::open(GitLocation{tmp.path(), "HEAD", "/app"});
    REQUIRE_FALSE(absolute_dir.ok());
    CHECK(absolute_dir.error().message.find("leaves the repository") != std::string::npos);
    // A ".." that folds a name before it stays inside (support/path_inside.hpp's one rule).
    auto folded = tree->read("sub/../tandem.yaml");
    REQUIRE(folded.ok());
    CHECK(*folded == "version: 1\n");
}

TEST_CASE("refs resolve to commits: branches, tags and ids - unknown refs are errors") {
    TempDir tmp;
    tmp.write("f.txt", "1");
    git(tmp.path(), {"init", "-q"});
    git(tmp.path(), {"add", "-A"});
    git(tmp.path(), {"commit", "-q", "-m", "one"});
    git(tmp.path(), {"tag", "v1"});
    tmp.write("f.txt", "2");
    git(tmp.path(), {"commit", "-q", "-am", "two"});

    auto tagged = GitTree::open(GitLocation{tmp.path(), "v1", ""});
    REQUIRE(tagged.ok());
    CHECK(*tagged->read("f.txt") == "1");
    auto branch = GitTree::open(GitLocation{tmp.path(), "main", ""});
    REQUIRE(branch.ok());
    CHECK(*branch->read("f.txt") == "2");
    auto by_id = GitTree::open(GitLocation{tmp.path(), tagged->commit(), ""});
    REQUIRE(by_id.ok());
    CHECK(by_id->commit() == tagged->commit());
    auto unknown = GitTree::open(GitLocation{tmp.path(), "nope", ""});
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().code == tandem::ErrorCode::source);
    auto not_a_repo = GitTree::locate(fs::temp_directory_path() / "definitely-not-a-repo-tandem");
    CHECK_FALSE(not_a_repo.ok());
}

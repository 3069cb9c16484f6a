// The one containment rule: lexical (the text decides) and resolving (symlinks followed), with
// the hostile cases each must refuse.
#include <doctest/doctest.h>

#include "support/path_inside.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>

namespace fs = std::filesystem;
using namespace tandem;
using Refusal = InsideRoot::Refusal;
using tandem::test::TempDir;

TEST_CASE("inside_root: a relative path's normal form, the root itself as \"\"") {
    CHECK(inside_root("a/b").path == "a/b");
    CHECK(inside_root("./a//b/").path == "a/b");
    CHECK(inside_root("a/./b/.").path == "a/b");
    CHECK(inside_root("a/../b").path == "b");  // folded: the text stays inside
    CHECK(inside_root(".").inside());
    CHECK(inside_root(".").path.empty());
    CHECK(inside_root("a/..").path.empty());
    CHECK(inside_root("..a/b..").path == "..a/b..");  // names that only start or end with dots
}

TEST_CASE("inside_root refuses the empty, the absolute and whatever leaves, however it is spelled") {
    CHECK(inside_root("").refusal == Refusal::empty);
    CHECK(inside_root("/etc/passwd").refusal == Refusal::absolute);
    CHECK(inside_root("/").refusal == Refusal::absolute);
    for (const char* leaving : {"..", "../", "../x", "a/../..", "a/../../x", "./../x", "a/b/../../../x", "a//..//../x"}) {
        CAPTURE(leaving);
        CHECK(inside_root(leaving).refusal == Refusal::leaves);
        CHECK_FALSE(inside_root(leaving));
    }
}

TEST_CASE("holds: a path is inside its parent segment by segment, not by prefix") {
    CHECK(holds("out", "out"));
    CHECK(holds("out", "out/x"));
    CHECK_FALSE(holds("out", "outer"));
    CHECK_FALSE(holds("out", "out2/x"));
    CHECK_FALSE(holds("out/x", "out"));
    CHECK(holds("", "anything"));
}

TEST_CASE("resolved_inside follows symlinks: a link out of the root is outside, root2 is not root") {
    TempDir dir;
    const fs::path root = dir.path() / "root";
    fs::create_directories(root / "sub");
    fs::create_directories(dir.path() / "root2" / "x");
    fs::create_directories(dir.path() / "elsewhere");
    fs::create_directory_symlink(dir.path() / "elsewhere", root / "escape");
    fs::create_directory_symlink("sub", root / "inner");

    CHECK(resolved_inside(root, root).path.empty());
    CHECK(resolved_inside(root, root).inside());
    CHECK(resolved_inside(root, root / "sub").path == "sub");
    CHECK(resolved_inside(root, root / "inner" / "file").path == "sub/file");  // a missing tail, as written
    CHECK(resolved_inside(root, root / "escape").refusal == Refusal::leaves);
    CHECK(resolved_inside(root, root / "escape" / "file").refusal == Refusal::leaves);
    CHECK(resolved_inside(root, root / ".." / "root2" / "x").refusal == Refusal::leaves);
    CHECK(resolved_inside(root, dir.path() / "root2").refusal == Refusal::leaves);  // shares the prefix "root"
    CHECK(resolved_inside(root, "/etc").refusal == Refusal::leaves);
    // Lexically, the link looks inside: that is what the resolving check is for.
    CHECK(inside_root("escape/file").inside());
}

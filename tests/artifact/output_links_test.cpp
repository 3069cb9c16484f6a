// Outputs that would let code outside an artifact run (issue 13, defect 3): symlinks out of the
// outputs, symlinked output directories, hard links and special files.
#include <doctest/doctest.h>

#include <tandem/artifact_store.hpp>

#include "artifact/manifest.hpp"
#include "support/temp_dir.hpp"

#include <sys/stat.h>

#include <filesystem>

using namespace tandem;
using tandem::test::read_text;
using tandem::test::TempDir;
namespace fs = std::filesystem;

namespace {

bool store_is_empty(const fs::path& store) {
    std::error_code ec;
    return !fs::exists(store / "sha256", ec) || fs::is_empty(store / "sha256", ec);
}

bool mentions(const Error& error, const std::string& text) { return error.message.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("put refuses an output symlink that leaves the outputs, naming the output and its target") {
    TempDir outside;
    const fs::path mutable_script = outside.write("x/mutable.sh", "#!/bin/sh\necho v1\n");
    TempDir build;
    build.write("bin/app", "#!/bin/sh\n");
    build.write("src/tool.sh", "#!/bin/sh\necho source\n");
    fs::create_directories(build.path() / "out/sub");
    std::vector<std::string> outputs = {"bin/app", "out"};
    std::string named = "out/tool";
    std::string target;
    SUBCASE("absolute") {
        target = mutable_script.string();
        fs::create_symlink(target, build.path() / "out/tool");
    }
    SUBCASE("relative, climbing out of the build directory with ..") {
        target = fs::relative(mutable_script, build.path() / "out").string();
        REQUIRE(target.starts_with("../"));
        fs::create_symlink(target, build.path() / "out/tool");
    }
    SUBCASE("a chain of links inside whose last link leaves") {
        fs::create_symlink("sub/next", build.path() / "out/tool");
        fs::create_symlink("../zz-last", build.path() / "out/sub/next");
        fs::create_symlink(mutable_script, build.path() / "out/zz-last");
        CHECK(read_text(build.path() / "out/tool") == "#!/bin/sh\necho v1\n");  // it does reach the script
        named = "out/sub/next";  // the first link in path order whose chain leaves
        target = "../zz-last";
    }
    SUBCASE("through a linked directory inside, then .. out (not what a lexical check sees)") {
        fs::create_symlink("..", build.path() / "out/sub/up");
        target = "sub/up/../../" + outside.path().filename().string() + "/x/mutable.sh";
        fs::create_symlink(target, build.path() / "out/tool");
        CHECK(read_text(build.path() / "out/tool") == "#!/bin/sh\necho v1\n");
    }
    SUBCASE("to a source file of the build directory that is not an output") {
        target = "../src/tool.sh";
        fs::create_symlink(target, build.path() / "out/tool");
    }
    SUBCASE("the output directory itself") {
        outputs.push_back("out2");
        named = "out2";
        target = (outside.path() / "x").string();
        fs::create_symlink(target, build.path() / "out2");
    }
    SUBCASE("a directory above the output") {
        outputs.push_back("linked/mutable.sh");
        named = "linked";
        target = (outside.path() / "x").string();
        fs::create_symlink(target, build.path() / "linked");
    }
    ArtifactStore store(build.path() / ".store");
    const auto stored = store.put(build.path(), outputs);
    REQUIRE_FALSE(stored.ok());
    CHECK_MESSAGE(mentions(stored.error(), "'" + named + "'"), stored.error().message);
    CHECK_MESSAGE(mentions(stored.error(), "'" + target + "'"), stored.error().message);
    CHECK(store_is_empty(store.root()));
    CHECK_FALSE(artifact_digest(build.path(), outputs).ok());
}

TEST_CASE("links that end inside the outputs stay links, chains and directories included") {
    TempDir build;
    build.write("out/lib/real.sh", "#!/bin/sh\necho inside\n");
    build.write("docs/readme", "hello\n");
    fs::create_symlink("lib/real.sh", build.path() / "out/tool");
    fs::create_symlink("tool", build.path() / "out/chain");
    fs::create_symlink("lib", build.path() / "out/libdir");
    fs::create_symlink("libdir/../lib/real.sh", build.path() / "out/through");
    fs::create_symlink("../docs/readme", build.path() / "out/readme");  // another output
    fs::create_symlink("missing", build.path() / "out/dangling");       // nothing runs
    ArtifactStore store(build.path() / ".store");
    const auto stored = store.put(build.path(), {"out", "docs"});
    REQUIRE_MESSAGE(stored.ok(), stored.error().to_string());
    const fs::path root = store.path_of(*stored);
    CHECK(fs::read_symlink(root / "out/chain") == "tool");
    CHECK(read_text(root / "out/through") == "#!/bin/sh\necho inside\n");
    CHECK(read_text(root / "out/readme") == "hello\n");
    CHECK(store.verify(*stored).ok());
}

TEST_CASE("a chain of more than 40 links is refused") {
    TempDir build;
    fs::create_directories(build.path() / "out");
    fs::create_symlink("b", build.path() / "out/a");
    fs::create_symlink("a", build.path() / "out/b");
    ArtifactStore store(build.path() / ".store");
    const auto stored = store.put(build.path(), {"out"});
    REQUIRE_FALSE(stored.ok());
    CHECK_MESSAGE(mentions(stored.error(), "more than 40 symlinks"), stored.error().message);
}

TEST_CASE("a hard link to a file outside is stored as a copy: changing that file changes nothing stored") {
    TempDir build;
    const fs::path outside = build.write("elsewhere/mutable.sh", "#!/bin/sh\necho v1\n");
    fs::create_directories(build.path() / "out");
    fs::create_hard_link(outside, build.path() / "out/tool");
    ArtifactStore store(build.path() / ".store");
    const auto stored = store.put(build.path(), {"out"});
    REQUIRE_MESSAGE(stored.ok(), stored.error().to_string());
    build.write("elsewhere/mutable.sh", "#!/bin/sh\necho changed\n");
    CHECK(read_text(store.path_of(*stored) / "out/tool") == "#!/bin/sh\necho v1\n");
    CHECK(store.verify(*stored).ok());
}

TEST_CASE("a fifo among the outputs is refused, naming it") {
    TempDir build;
    fs::create_directories(build.path() / "out");
    REQUIRE(::mkfifo((build.path() / "out/pipe").c_str(), 0644) == 0);
    ArtifactStore store(build.path() / ".store");
    const auto stored = store.put(build.path(), {"out"});
    REQUIRE_FALSE(stored.ok());
    CHECK_MESSAGE(mentions(stored.error(), "out/pipe"), stored.error().message);
    CHECK(mentions(stored.error(), "is not a file, directory or symlink"));
    CHECK(store_is_empty(store.root()));
}

TEST_CASE("verify refuses a stored artifact whose symlink leaves it (stored by an engine that let it in)") {
    TempDir outside;
    const fs::path script = outside.write("mutable.sh", "#!/bin/sh\necho v1\n");
    TempDir state;
    // What an older engine stored: the link as it was, under the digest of the tree.
    const fs::path made = state.path() / "store/tmp/made";
    fs::create_directories(made / "out");
    fs::create_symlink(script, made / "out/tool");
    const auto manifest = artifact::manifest_of_tree(made);
    REQUIRE(manifest.ok());
    const std::string digest = artifact::manifest_digest(*manifest);
    fs::create_directories(state.path() / "store/sha256");
    fs::rename(made, state.path() / "store/sha256" / digest.substr(7));
    ArtifactStore store(state.path() / "store");
    REQUIRE(store.contains(digest));
    const auto verified = store.verify(digest);
    REQUIRE_FALSE(verified.ok());
    CHECK_MESSAGE(mentions(verified.error(), "out/tool"), verified.error().message);
    CHECK(mentions(verified.error(), script.string()));
    CHECK(mentions(verified.error(), "refusing to start"));
}

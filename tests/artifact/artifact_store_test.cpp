// The artifact store: content digests, read-only copies, verification before start, links.
#include <doctest/doctest.h>

#include <tandem/artifact_store.hpp>

#include "support/temp_dir.hpp"

#include <filesystem>
#include <fstream>

using namespace tandem;
using tandem::test::read_text;
using tandem::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A build tree: an executable, a data file, a directory with a nested file, an empty
// directory and a symlink.
void build_outputs(const TempDir& dir, const std::string& sub) {
    const auto app = dir.write(sub + "/bin/app", "#!/bin/sh\necho v1\n");
    fs::permissions(app, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
    dir.write(sub + "/config.txt", "port=8080\n");
    dir.write(sub + "/dist/index.html", "<h1>v1</h1>\n");
    fs::create_directories(dir.path() / sub / "dist/empty");
    fs::create_symlink("index.html", dir.path() / sub / "dist/home.html");
}

const std::vector<std::string> kOutputs = {"bin/app", "config.txt", "dist"};

fs::perms permissions_of(const fs::path& path) { return fs::symlink_status(path).permissions() & fs::perms::mask; }

// Stored files are read-only; we run as root, so that needs lifting first to simulate tampering.
void overwrite(const fs::path& file, const std::string& content) {
    fs::permissions(file, fs::perms::owner_write, fs::perm_options::add);
    std::ofstream(file, std::ios::trunc) << content;
}

}  // namespace

TEST_CASE("equal outputs in two directories give equal digests") {
    TempDir dir;
    build_outputs(dir, "a");
    build_outputs(dir, "b");
    const auto a = artifact_digest(dir.path() / "a", kOutputs);
    const auto b = artifact_digest(dir.path() / "b", {"dist", "config.txt", "bin/app"});  // order does not matter
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->starts_with("sha256:"));
    CHECK(a->size() == 7 + 64);
    CHECK(*a == *b);
}

TEST_CASE("an executable bit, a byte, an empty directory or a symlink target changes the digest") {
    TempDir dir;
    build_outputs(dir, "a");
    const auto before = *artifact_digest(dir.path() / "a", kOutputs);
    SUBCASE("exec bit") { fs::permissions(dir.path() / "a/config.txt", fs::perms::owner_exec, fs::perm_options::add); }
    SUBCASE("byte") { dir.write("a/dist/index.html", "<h1>v2</h1>\n"); }
    SUBCASE("empty directory") { fs::create_directories(dir.path() / "a/dist/empty/more"); }
    SUBCASE("symlink target") {
        fs::remove(dir.path() / "a/dist/home.html");
        fs::create_symlink("missing.html", dir.path() / "a/dist/home.html");
    }
    CHECK(*artifact_digest(dir.path() / "a", kOutputs) != before);
}

TEST_CASE("put stores a read-only copy under sha256/<hex>: files 0444, executables and directories 0555") {
    TempDir dir;
    build_outputs(dir, "src");
    ArtifactStore store(dir.path() / "store");
    const auto digest = store.put(dir.path() / "src", kOutputs);
    REQUIRE(digest);
    CHECK(*digest == *artifact_digest(dir.path() / "src", kOutputs));
    const fs::path stored = store.path_of(*digest);
    CHECK(stored == dir.path() / "store/sha256" / digest->substr(7));
    CHECK(store.contains(*digest));

    using fs::perms;
    const perms r = perms::owner_read | perms::group_read | perms::others_read;
    const perms rx = r | perms::owner_exec | perms::group_exec | perms::others_exec;
    CHECK(permissions_of(stored) == rx);
    CHECK(permissions_of(stored / "bin") == rx);
    CHECK(permissions_of(stored / "bin/app") == rx);
    CHECK(permissions_of(stored / "config.txt") == r);
    CHECK(permissions_of(stored / "dist/empty") == rx);
    CHECK(read_text(stored / "dist/index.html") == "<h1>v1</h1>\n");
    CHECK(fs::read_symlink(stored / "dist/home.html") == "index.html");
    CHECK(fs::is_empty(dir.path() / "store/tmp"));
    CHECK(store.verify(*digest));
}

TEST_CASE("put of outputs already stored reuses the artifact without copying again") {
    TempDir dir;
    build_outputs(dir, "a");
    build_outputs(dir, "b");
    ArtifactStore store(dir.path() / "store");
    const auto first = store.put(dir.path() / "a", kOutputs);
    REQUIRE(first);
    const auto stored_at = fs::last_write_time(store.path_of(*first));
    const auto second = store.put(dir.path() / "b", kOutputs);
    REQUIRE(second);
    CHECK(*second == *first);
    CHECK(fs::last_write_time(store.path_of(*first)) == stored_at);
    CHECK(std::distance(fs::directory_iterator(dir.path() / "store/sha256"), fs::directory_iterator()) == 1);
}

TEST_CASE("verify refuses an artifact modified after it was stored, naming what changed") {
    TempDir dir;
    build_outputs(dir, "src");
    ArtifactStore store(dir.path() / "store");
    const std::string digest = *store.put(dir.path() / "src", kOutputs);
    const fs::path stored = store.path_of(digest);
    std::string changed;

    SUBCASE("a file's bytes") {
        overwrite(stored / "bin/app", "#!/bin/sh\necho evil\n");
        changed = "bin/app changed";
    }
    SUBCASE("a file added") {
        fs::permissions(stored / "dist", fs::perms::owner_write, fs::perm_options::add);
        std::ofstream(stored / "dist/extra.js") << "evil()";
        changed = "dist/extra.js added";
    }
    SUBCASE("a file removed") {
        fs::remove(stored / "config.txt");
        changed = "config.txt removed";
    }
    const Status verified = store.verify(digest);
    REQUIRE_FALSE(verified);
    CHECK(verified.error().code == ErrorCode::io);
    const std::string& message = verified.error().message;
    CHECK(message == "artifact " + digest.substr(0, 15) + "… of " + stored.string() + " was modified after it was stored (" +
                         changed + "): refusing to start");
}

TEST_CASE("verify of a digest not in the store says so") {
    TempDir dir;
    ArtifactStore store(dir.path() / "store");
    const Status verified = store.verify("sha256:" + std::string(64, '0'));
    REQUIRE_FALSE(verified);
    CHECK(verified.error().message.find("is not in the store") != std::string::npos);
    CHECK(store.verify("sha256:../../etc").error().code == ErrorCode::invalid_value);
}

TEST_CASE("a missing output is an io error naming it, and an output outside the directory is refused") {
    TempDir dir;
    build_outputs(dir, "src");
    ArtifactStore store(dir.path() / "store");
    const auto missing = store.put(dir.path() / "src", {"bin/app", "bin/worker"});
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::io);
    CHECK(missing.error().message ==
          "output 'bin/worker' was not built: " + (dir.path() / "src/bin/worker").string() + " does not exist");
    CHECK_FALSE(fs::exists(dir.path() / "store/sha256"));

    const auto outside = store.put(dir.path() / "src", {"../src/config.txt"});
    REQUIRE_FALSE(outside);
    CHECK(outside.error().message.find("output '../src/config.txt' is not a path inside") == 0);
}

TEST_CASE("link_outputs makes symlinks into the store that read the stored bytes") {
    TempDir dir;
    build_outputs(dir, "src");
    ArtifactStore store(dir.path() / "store");
    const std::string digest = *store.put(dir.path() / "src", kOutputs);
    // What is in the way: a stale file, and a read-only tree from an earlier run.
    const fs::path run = dir.path() / "run";
    dir.write("run/config.txt", "stale\n");
    dir.write("run/dist/old.html", "old\n");
    fs::permissions(run / "dist", fs::perms::owner_read | fs::perms::owner_exec);

    REQUIRE(store.link_outputs(digest, run, kOutputs));
    for (const auto& output : kOutputs) {
        CHECK(fs::is_symlink(run / output));
        CHECK(fs::read_symlink(run / output) == fs::absolute(store.path_of(digest) / output));
    }
    CHECK(read_text(run / "config.txt") == "port=8080\n");
    CHECK(read_text(run / "dist/index.html") == "<h1>v1</h1>\n");
    CHECK_FALSE(fs::exists(run / "dist/old.html"));
    dir.write("src/config.txt", "port=9090\n");  // the build tree changing does not reach the service
    CHECK(read_text(run / "config.txt") == "port=8080\n");

    const Status unknown = store.link_outputs(digest, run, {"bin/worker"});
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().message.find("has no output 'bin/worker'") != std::string::npos);
}

TEST_CASE("remember and lookup round trip, and lookup forgets what retain_only removed") {
    TempDir dir;
    dir.write("one/app", "one");
    dir.write("two/app", "two");
    ArtifactStore store(dir.path() / "store");
    const std::string one = *store.put(dir.path() / "one", {"app"});
    const std::string two = *store.put(dir.path() / "two", {"app"});
    CHECK_FALSE(store.lookup("commit-a/api"));
    REQUIRE(store.remember("commit-a/api", one));
    REQUIRE(store.remember("commit-b/api", two));
    CHECK(store.lookup("commit-a/api") == one);
    CHECK(store.lookup("commit-b/api") == two);
    REQUIRE(store.remember("commit-a/api", two));  // replaced
    CHECK(store.lookup("commit-a/api") == two);
    REQUIRE(store.remember("commit-a/api", one));

    REQUIRE(store.retain_only({two}));
    CHECK_FALSE(store.contains(one));
    CHECK_FALSE(fs::exists(store.path_of(one)));
    CHECK(store.contains(two));
    CHECK(store.verify(two));
    CHECK_FALSE(store.lookup("commit-a/api"));
    CHECK(store.lookup("commit-b/api") == two);
    CHECK(std::distance(fs::directory_iterator(dir.path() / "store/keys"), fs::directory_iterator()) == 1);
    CHECK(store.remember("commit-c/api", "not a digest").error().code == ErrorCode::invalid_value);
}

TEST_CASE("a directory output is stored whole, nested files, empty directories and symlinks included") {
    TempDir dir;
    build_outputs(dir, "src");
    ArtifactStore store(dir.path() / "store");
    const std::string digest = *store.put(dir.path() / "src", {"dist/"});
    const fs::path stored = store.path_of(digest);
    CHECK(fs::is_directory(stored / "dist/empty"));
    CHECK(fs::is_symlink(stored / "dist/home.html"));
    CHECK(read_text(stored / "dist/home.html") == "<h1>v1</h1>\n");
    CHECK_FALSE(fs::exists(stored / "config.txt"));
    CHECK(store.verify(digest));

    fs::permissions(stored / "dist/empty", fs::perms::owner_write, fs::perm_options::add);
    fs::create_directory(stored / "dist/empty/new");
    CHECK(store.verify(digest).error().message.find("(dist/empty/new added)") != std::string::npos);
}

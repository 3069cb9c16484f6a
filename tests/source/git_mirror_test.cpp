// GitMirror against real repositories: opening, fetching with prune, resolving refs and ids,
// ancestry and the paths that changed between two commits.
#include <doctest/doctest.h>

#include "source/upstream_repo.hpp"

#include <tandem/git_mirror.hpp>

#include <algorithm>
#include <chrono>

namespace fs = std::filesystem;
using tandem::ErrorCode;
using tandem::GitMirror;
using tandem::test::git;
using tandem::test::fetched_mirror;
using tandem::test::MirrorState;
using tandem::test::TempDir;
using tandem::test::trimmed;
using tandem::test::UpstreamRepo;
using Paths = std::vector<std::string>;

namespace {

std::string resolved_id(const GitMirror& mirror, const std::string& ref) {
    auto info = mirror.resolve(ref);
    REQUIRE_MESSAGE(info.ok(), info.error().message);
    return info->id;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("open creates a bare mirror whose origin is the URL, and opens it again") {
    UpstreamRepo upstream;
    MirrorState state;
    {
        auto mirror = GitMirror::open(state.mirror(), upstream.url());
        REQUIRE_MESSAGE(mirror.ok(), mirror.error().message);
        CHECK(mirror->path() == state.mirror());
        CHECK(mirror->url() == upstream.url());
    }
    CHECK(trimmed(git(state.mirror(), {"rev-parse", "--is-bare-repository"})) == "true");
    CHECK(trimmed(git(state.mirror(), {"config", "remote.origin.url"})) == upstream.url());

    auto again = GitMirror::open(state.mirror(), "/elsewhere/repo.git");
    REQUIRE(again.ok());
    CHECK(trimmed(git(state.mirror(), {"config", "remote.origin.url"})) == "/elsewhere/repo.git");

    TempDir occupied;
    occupied.write("notes.txt", "not a repository\n");
    auto refused = GitMirror::open(occupied.path(), upstream.url());
    REQUIRE_FALSE(refused.ok());
    CHECK(contains(refused.error().message, occupied.path().string()));
}

TEST_CASE("fetch then resolve: branches before tags, lightweight and annotated tags, ids") {
    UpstreamRepo upstream;
    upstream.write("a.txt", "one\n");
    const std::string first = upstream.commit("first");
    upstream.run({"tag", "v1"});
    upstream.run({"branch", "feature"});
    upstream.write("a.txt", "two\n");
    const std::string second = upstream.commit("second line of work\n\nwith a body");
    upstream.run({"tag", "-a", "v2", "-m", "release 2"});
    upstream.run({"tag", "feature", second});  // a tag named like a branch

    MirrorState state;
    auto opened = GitMirror::open(state.mirror(), upstream.url());
    REQUIRE(opened.ok());
    CHECK_FALSE(opened->resolve("main").ok());  // nothing fetched yet
    GitMirror mirror = fetched_mirror(state, upstream);

    CHECK(resolved_id(mirror, "main") == second);
    CHECK(resolved_id(mirror, "feature") == first);  // the branch, not the tag
    CHECK(resolved_id(mirror, "v1") == first);
    CHECK(resolved_id(mirror, "v2") == second);      // peeled from the annotated tag
    CHECK(resolved_id(mirror, "refs/tags/feature") == second);
    CHECK(resolved_id(mirror, first.substr(0, 8)) == first);
    CHECK(resolved_id(mirror, second) == second);

    auto info = mirror.resolve("main");
    REQUIRE(info.ok());
    CHECK(info->author == "tandem test <test@tandem.invalid>");
    CHECK(info->subject == "second line of work");
    CHECK(info->short_id() == second.substr(0, 12));
    CHECK(std::chrono::abs(std::chrono::system_clock::now() - info->time) < std::chrono::minutes(5));
    auto by_id = mirror.commit(first.substr(0, 10));
    REQUIRE(by_id.ok());
    CHECK(by_id->subject == "first");

    auto unknown = mirror.resolve("no-such-branch");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().code == ErrorCode::source);
    CHECK(contains(unknown.error().message, "no-such-branch"));
    CHECK_FALSE(mirror.commit("main").ok());  // commit() takes ids only
}

TEST_CASE("a second fetch brings new commits and prunes what upstream deleted") {
    UpstreamRepo upstream;
    upstream.write("a.txt", "one\n");
    const std::string first = upstream.commit("first");
    upstream.run({"branch", "short-lived"});
    upstream.run({"tag", "old-tag"});
    MirrorState state;
    GitMirror mirror = fetched_mirror(state, upstream);
    CHECK(resolved_id(mirror, "short-lived") == first);

    upstream.write("a.txt", "two\n");
    const std::string second = upstream.commit("second");
    upstream.run({"branch", "-D", "short-lived"});
    upstream.run({"tag", "-d", "old-tag"});
    CHECK(resolved_id(mirror, "main") == first);  // not fetched yet
    REQUIRE(mirror.fetch().ok());
    CHECK(resolved_id(mirror, "main") == second);
    CHECK_FALSE(mirror.resolve("short-lived").ok());
    CHECK_FALSE(mirror.resolve("old-tag").ok());

    auto forward = mirror.is_ancestor(first, second);
    REQUIRE(forward.ok());
    CHECK(*forward);
    auto backward = mirror.is_ancestor(second, first);
    REQUIRE(backward.ok());
    CHECK_FALSE(*backward);
    auto same = mirror.is_ancestor(second, second);
    REQUIRE(same.ok());
    CHECK(*same);
    CHECK_FALSE(mirror.is_ancestor("0123456789abcdef0123456789abcdef01234567", second).ok());
}

TEST_CASE("fetching from a URL that does not answer is an error naming the URL") {
    MirrorState state;
    TempDir nowhere;
    const std::string url = (nowhere.path() / "no-such-repo.git").string();
    auto mirror = GitMirror::open(state.mirror(), url);
    REQUIRE(mirror.ok());
    auto fetched = mirror->fetch();
    REQUIRE_FALSE(fetched.ok());
    CHECK(fetched.error().code == ErrorCode::source);
    CHECK(contains(fetched.error().message, url));
    CHECK(contains(fetched.error().message, "no repository at that path"));

    MirrorState other;
    const std::string refused_url = "https://127.0.0.1:1/repo.git";  // port 1: nothing listens
    auto remote = GitMirror::open(other.mirror(), refused_url);
    REQUIRE(remote.ok());
    auto refused = remote->fetch();
    REQUIRE_FALSE(refused.ok());
    CHECK(contains(refused.error().message, refused_url));
}

TEST_CASE("changed paths between commits, below the whole tree or a project directory") {
    UpstreamRepo upstream;
    upstream.write("app/a.txt", "a\n");
    upstream.write("app/b.txt", "b is long enough to be recognised as renamed\n");
    upstream.write("app/sub/c.txt", "c\n");
    upstream.write("other/x.txt", "x\n");
    upstream.write("top.txt", "top\n");
    const std::string first = upstream.commit("first");
    upstream.write("app/a.txt", "a changed\n");
    upstream.run({"mv", "app/b.txt", "app/renamed.txt"});
    upstream.run({"rm", "-q", "app/sub/c.txt"});
    upstream.write("other/x.txt", "x changed\n");
    const std::string second = upstream.commit("second");

    MirrorState state;
    GitMirror mirror = fetched_mirror(state, upstream);
    auto whole = mirror.changed_paths(first, second, "");
    REQUIRE_MESSAGE(whole.ok(), whole.error().message);
    CHECK(*whole == Paths{"app/a.txt", "app/b.txt", "app/renamed.txt", "app/sub/c.txt", "other/x.txt"});

    for (const std::string dir : {"app", "app/", "./app"}) {
        auto below = mirror.changed_paths(first, second, dir);
        REQUIRE_MESSAGE(below.ok(), below.error().message);
        CHECK(*below == Paths{"a.txt", "b.txt", "renamed.txt", "sub/c.txt"});
    }
    auto everything = mirror.changed_paths("", first, "app");
    REQUIRE(everything.ok());
    CHECK(*everything == Paths{"a.txt", "b.txt", "sub/c.txt"});
    auto all_files = mirror.changed_paths("", second, "");
    REQUIRE(all_files.ok());
    CHECK(*all_files == Paths{"app/a.txt", "app/renamed.txt", "other/x.txt", "top.txt"});

    auto missing_dir = mirror.changed_paths(first, second, "not-there");
    REQUIRE(missing_dir.ok());
    CHECK(missing_dir->empty());
    auto nothing = mirror.changed_paths(second, second, "");
    REQUIRE(nothing.ok());
    CHECK(nothing->empty());
    CHECK_FALSE(mirror.changed_paths(first, second, "../outside").ok());
    CHECK_FALSE(mirror.changed_paths(first, "fedcba9876", "").ok());
}

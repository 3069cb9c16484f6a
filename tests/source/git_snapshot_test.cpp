// GitMirror::materialize: exact bytes and read-only modes, in-tree symlinks kept, and trees
// that could escape the snapshot refused whole, with nothing left behind.
#include <doctest/doctest.h>

#include "source/upstream_repo.hpp"
#include "source/snapshot_writer.hpp"

#include <tandem/git_mirror.hpp>

#include <sys/stat.h>

namespace fs = std::filesystem;
using tandem::ErrorCode;
using tandem::GitMirror;
using tandem::test::fetched_mirror;
using tandem::test::MirrorState;
using tandem::test::read_text;
using tandem::test::UpstreamRepo;
using RawEntry = UpstreamRepo::RawEntry;

namespace {

unsigned mode_of(const fs::path& path) {
    struct stat info {};
    REQUIRE(::lstat(path.c_str(), &info) == 0);
    return info.st_mode & 07777;
}

std::size_t entries_in(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) return 0;
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("materialize writes exact bytes, read-only modes and in-tree symlinks, once") {
    UpstreamRepo upstream;
    const std::string binary("\0\x01\xff\r\nend", 8);
    upstream.write("data.bin", binary);
    const auto script = upstream.path() / "run.sh";
    upstream.write("run.sh", "#!/bin/sh\necho hi\n");
    fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
    upstream.write("dir/nested/file.txt", "nested\n");
    fs::create_symlink("nested/file.txt", upstream.path() / "dir/link");
    fs::create_symlink("../data.bin", upstream.path() / "dir/up");
    const std::string id = upstream.commit("files of every kind");

    MirrorState state;
    GitMirror mirror = fetched_mirror(state, upstream);
    auto snapshot = mirror.materialize(id.substr(0, 9), state.snapshots());
    REQUIRE_MESSAGE(snapshot.ok(), snapshot.error().message);
    const fs::path root = *snapshot;
    CHECK(root == state.snapshots() / id);

    CHECK(read_text(root / "data.bin") == binary);
    CHECK(read_text(root / "run.sh") == "#!/bin/sh\necho hi\n");
    CHECK(read_text(root / "dir/nested/file.txt") == "nested\n");
    CHECK(mode_of(root / "data.bin") == 0444);
    CHECK(mode_of(root / "run.sh") == 0555);
    CHECK(mode_of(root / "dir/nested/file.txt") == 0444);
    CHECK(mode_of(root) == 0555);
    CHECK(mode_of(root / "dir") == 0555);
    CHECK(mode_of(root / "dir/nested") == 0555);
    CHECK(fs::is_symlink(root / "dir/link"));
    CHECK(fs::read_symlink(root / "dir/link") == "nested/file.txt");
    CHECK(read_text(root / "dir/link") == "nested\n");
    CHECK(read_text(root / "dir/up") == binary);

    auto again = mirror.materialize(id, state.snapshots());
    REQUIRE(again.ok());
    CHECK(*again == root);
    CHECK(entries_in(state.snapshots()) == 1);  // no temporary directory left beside it

    auto unknown = mirror.materialize("0123456789abcdef", state.snapshots());
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message.find("0123456789abcdef") != std::string::npos);
}

TEST_CASE("a tree that could escape the snapshot refuses the whole commit and leaves nothing") {
    UpstreamRepo upstream;
    upstream.write("README", "fine\n");
    const std::string base = upstream.commit("base");
    const std::string blob = upstream.blob("payload\n");
    const std::string good_tree = upstream.raw_tree({{"100644", "file.txt", blob}});
    const RawEntry good_dir{"40000", "a-good-dir", good_tree};  // written, then made 0555, before the bad entry
    const std::string evil_dir = upstream.raw_tree({{"40000", "..", good_tree}});
    const std::string deep_dir = upstream.raw_tree({{"120000", "link", upstream.blob("../../etc/passwd")}});

    struct Case {
        std::string branch;
        std::vector<RawEntry> entries;
        std::string shown_path;
    };
    const std::vector<Case> cases = {
        {"dot-dot", {good_dir, {"40000", "..", good_tree}}, "'..'"},
        {"nested-dot-dot", {good_dir, {"40000", "evil", evil_dir}}, "'evil/..'"},
        {"dot", {good_dir, {"40000", ".", good_tree}}, "'.'"},
        {"dot-git", {{"40000", ".git", good_tree}, good_dir}, "'.git'"},
        {"dot-git-upper", {{"40000", ".GiT", good_tree}, good_dir}, "'.GiT'"},
        {"slash", {good_dir, {"100644", "evil/../../x", blob}}, "'evil/../../x'"},
        {"escaping-link", {good_dir, {"120000", "passwd", upstream.blob("../../etc/passwd")}}, "'passwd'"},
        {"deep-escaping-link", {good_dir, {"40000", "deep", deep_dir}}, "'deep/link'"},
        {"absolute-link", {good_dir, {"120000", "abs", upstream.blob("/etc/passwd")}}, "'abs'"},
        {"submodule", {good_dir, {"160000", "vendored", base}}, "'vendored'"},
    };
    std::vector<std::string> commits;
    for (const auto& c : cases) commits.push_back(upstream.commit_tree(upstream.raw_tree(c.entries), c.branch));

    MirrorState state;
    GitMirror mirror = fetched_mirror(state, upstream);
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(cases[i].branch);
        auto resolved = mirror.resolve(cases[i].branch);
        REQUIRE_MESSAGE(resolved.ok(), resolved.error().message);
        CHECK(resolved->id == commits[i]);
        auto snapshot = mirror.materialize(commits[i], state.snapshots());
        REQUIRE_FALSE(snapshot.ok());
        const std::string& message = snapshot.error().message;
        CAPTURE(message);
        CHECK(snapshot.error().code == ErrorCode::source);
        CHECK(message.find("commit " + commits[i].substr(0, 12)) == 0);
        CHECK(message.find("tree entry " + cases[i].shown_path) != std::string::npos);
        CHECK(message.find("refusing the commit") != std::string::npos);
        CHECK(entries_in(state.snapshots()) == 0);
    }
}

TEST_CASE("entry names and symlink targets: which are refused") {
    using tandem::detail::refused_link_reason;
    using tandem::detail::refused_name_reason;
    CHECK(refused_name_reason("file.txt").empty());
    CHECK(refused_name_reason("...").empty());
    CHECK(refused_name_reason(".gitignore").empty());
    CHECK_FALSE(refused_name_reason("").empty());
    CHECK_FALSE(refused_name_reason(".").empty());
    CHECK_FALSE(refused_name_reason("..").empty());
    CHECK_FALSE(refused_name_reason(".GIT").empty());
    CHECK_FALSE(refused_name_reason("a/b").empty());
    CHECK_FALSE(refused_name_reason(std::string_view("a\0b", 3)).empty());

    CHECK(refused_link_reason("", "a/b").empty());
    CHECK(refused_link_reason("d", "../x").empty());
    CHECK(refused_link_reason("a/b", "./../.././x").empty());
    CHECK(refused_link_reason("a/b", "../../").empty());
    CHECK_FALSE(refused_link_reason("", "../x").empty());
    CHECK_FALSE(refused_link_reason("a/b", "../../../x").empty());
    CHECK_FALSE(refused_link_reason("d", "x/../y").empty());  // x may be a symlink itself
    CHECK_FALSE(refused_link_reason("", "/etc/passwd").empty());
    CHECK_FALSE(refused_link_reason("", "").empty());
}

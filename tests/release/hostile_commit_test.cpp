// Commits whose content is hostile to the engine: a tree nested thousands of levels deep is
// refused before anything walks it, named (commit, path, limit) and audited, and the release
// that ran keeps serving.
#include "release/release_fixture.hpp"

#include <tandem/git_mirror.hpp>

#include <git2.h>
#include <git2/sys/mempack.h>

#include <filesystem>
#include <thread>

namespace tandem::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

void must(int rc, const char* what) {
    const git_error* e = git_error_last();
    REQUIRE_MESSAGE(rc == 0, what << ": " << (e && e->message ? e->message : "?"));
}

// Adds a commit to `repo_dir`'s main whose tree is its HEAD's plus deep/d/d/.../d/bottom.txt,
// with `depth` d's: directories nest depth + 1 levels. The objects are made in memory and written as one pack, so that
// a deep chain takes well under a second (loose objects took minutes for 100,000 levels).
std::string commit_deep_tree(const fs::path& repo_dir, int depth) {
    git_libgit2_init();
    git_repository* repo = nullptr;
    must(git_repository_open(&repo, repo_dir.c_str()), "open");
    git_odb* odb = nullptr;
    must(git_repository_odb(&odb, repo), "odb");
    git_odb_backend* memory = nullptr;
    must(git_mempack_new(&memory), "mempack");
    must(git_odb_add_backend(odb, memory, 1000), "add backend");

    git_oid id;
    must(git_blob_create_from_buffer(&id, repo, "bottom\n", 7), "blob");
    git_treebuilder* builder = nullptr;
    must(git_treebuilder_new(&builder, repo, nullptr), "treebuilder");
    must(git_treebuilder_insert(nullptr, builder, "bottom.txt", &id, GIT_FILEMODE_BLOB), "insert");
    must(git_treebuilder_write(&id, builder), "write tree");
    for (int level = 0; level < depth; ++level) {
        git_treebuilder_clear(builder);
        must(git_treebuilder_insert(nullptr, builder, "d", &id, GIT_FILEMODE_TREE), "insert dir");
        must(git_treebuilder_write(&id, builder), "write tree");
    }
    git_treebuilder_free(builder);  // `id`: the tree d/d/.../bottom.txt, `depth` d's

    git_object* head = nullptr;
    must(git_revparse_single(&head, repo, "HEAD^{commit}"), "HEAD");
    git_tree* head_tree = nullptr;
    must(git_commit_tree(&head_tree, reinterpret_cast<git_commit*>(head)), "HEAD tree");
    must(git_treebuilder_new(&builder, repo, head_tree), "root builder");
    must(git_treebuilder_insert(nullptr, builder, "deep", &id, GIT_FILEMODE_TREE), "insert deep");
    git_oid root_id;
    must(git_treebuilder_write(&root_id, builder), "root");
    git_treebuilder_free(builder);
    git_tree* root = nullptr;
    must(git_tree_lookup(&root, repo, &root_id), "root lookup");
    git_signature* who = nullptr;
    must(git_signature_now(&who, "Mallory", "mallory@example.com"), "signature");
    const git_commit* parents[] = {reinterpret_cast<git_commit*>(head)};
    git_oid commit_id;
    must(git_commit_create(&commit_id, repo, "refs/heads/main", who, who, nullptr, "a deep tree", root, 1, parents),
         "commit");

    git_buf pack = GIT_BUF_INIT;
    must(git_mempack_dump(&pack, repo, memory), "dump");
    git_odb_writepack* writer = nullptr;
    must(git_odb_write_pack(&writer, odb, nullptr, nullptr), "write pack");
    git_indexer_progress progress{};
    must(writer->append(writer, pack.ptr, pack.size, &progress), "append");
    must(writer->commit(writer, &progress), "commit pack");
    writer->free(writer);
    git_buf_dispose(&pack);

    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, &commit_id);
    git_signature_free(who);
    git_tree_free(root);
    git_tree_free(head_tree);
    git_object_free(head);
    git_odb_free(odb);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return hex;
}

// Entries of `dir` whose name holds `id` (a snapshot or a partial one).
int entries_naming(const fs::path& dir, const std::string& id) {
    int n = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().filename().string().find(id) != std::string::npos) ++n;
    return n;
}

}  // namespace

TEST_CASE("a commit whose tree nests 3000 levels deep is refused and named and audited while the release keeps serving") {
    FirstRelease release;
    REQUIRE(served_version(release.port) == "v1");
    // 3000 levels: past where a path of one-letter names outgrows PATH_MAX (2,048 levels), far
    // past the limit of 256.
    const std::string deep = commit_deep_tree(release.upstream.path(), 3000);

    REQUIRE(eventually([&] { return release.engine.status().history.rejected.count(deep) == 1; }, 60000ms));
    const auto status = release.engine.status();
    CHECK(status.deployed == release.first);
    CHECK(status.last_error.find("commit " + deep) != std::string::npos);
    CHECK(status.last_error.find("more than 256 levels deep (the limit)") != std::string::npos);
    CHECK(status.last_error.find("'deep/d/d/d/") != std::string::npos);
    CHECK(served_version(release.port) == "v1");

    // The history is written before the audit record: wait for the record too.
    auto audited = [&] {
        for (const auto& record : audit_records(release.state.path()))
            if (record.entry.commit == deep && record.entry.outcome == ChangeOutcome::refused &&
                record.entry.message.find("256 levels") != std::string::npos)
                return true;
        return false;
    };
    CHECK(eventually(audited, 10000ms));
    CHECK(entries_naming(release.state.path() / "snapshots", deep) == 0);  // nothing written, not even partly

    // Not tried again by the next polls: still one audit record of it.
    std::this_thread::sleep_for(500ms);
    int records = 0;
    for (const auto& record : audit_records(release.state.path())) records += record.entry.commit == deep;
    CHECK(records == 1);
}

TEST_CASE("the tree depth bound: 256 levels are materialized and 257 are refused before anything is written") {
    Upstream upstream;
    upstream.commit({{"README", "hello\n"}}, "first");
    TempDir state;
    const std::string fits = commit_deep_tree(upstream.path(), 255);  // deep/ + 255 below: 256 levels
    const std::string over = commit_deep_tree(upstream.path(), 256);
    auto mirror = GitMirror::open(state.path() / "mirror.git", upstream.path().string());
    REQUIRE_MESSAGE(mirror.ok(), mirror.error().to_string());
    REQUIRE_MESSAGE(mirror->fetch({}).ok(), "fetch");

    auto kept = mirror->materialize(fits, state.path() / "snapshots");
    REQUIRE_MESSAGE(kept.ok(), kept.error().to_string());
    fs::path bottom = *kept / "deep";
    for (int level = 0; level < 255; ++level) bottom /= "d";
    CHECK(fs::exists(bottom / "bottom.txt"));

    auto refused = mirror->materialize(over, state.path() / "snapshots");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("commit " + over) != std::string::npos);
    CHECK(refused.error().message.find("more than 256 levels deep") != std::string::npos);
    CHECK(refused.error().message.find("(257 levels down)") != std::string::npos);
    CHECK(entries_naming(state.path() / "snapshots", over) == 0);
}

TEST_CASE("a commit whose fetch never finishes in time is named, refused and audited after three tries, then not fetched again") {
    // 30,000 levels: git's own object walk (upload-pack) takes far longer than the 1 s fetch
    // timeout (at 100,000 levels, past a minute); the mirror never receives it, so only
    // `git ls-remote` can name it.
    ShipperRun run({"--http-port", "off", "--fetch-timeout", "1s"});
    auto& [upstream, state, port, first, log, engine] = run;
    auto release = [&] { return run.release(); };

    const std::string deep = commit_deep_tree(upstream.path(), 30000);
    auto refusals = [&] {
        int n = 0;
        for (const auto& record : audit_records(state.path()))
            n += record.entry.commit == deep && record.entry.event == ChangeEvent::refused &&
                 record.entry.message.find("fetching it timed out 3 times in a row") != std::string::npos;
        return n;
    };
    REQUIRE_MESSAGE(eventually([&] { return refusals() == 1; }, 90000ms), read_text(log));
    const auto status = release();
    CHECK(status.value("deployed", "") == first);
    CHECK(status.value("head", "") == deep);
    CHECK(status.value("head_rejected", "").find("timed out 3 times") != std::string::npos);
    CHECK(read_text(log).find("1 of 3 timed-out fetches in a row") != std::string::npos);
    CHECK(served_version(port) == "v1");

    // Held back while origin's main points at it: polls ask ls-remote, fetch nothing (no more
    // timed-out fetches in the log), refuse nothing more.
    auto timeouts = [&] {
        const std::string text = read_text(log);
        int n = 0;
        for (auto at = text.find("took longer than 1s"); at != std::string::npos; at = text.find("took longer than 1s", at + 1))
            ++n;
        return n;
    };
    const int timed_out = timeouts();
    CHECK(timed_out >= 3);
    std::this_thread::sleep_for(3000ms);
    CHECK(timeouts() == timed_out);
    CHECK(refusals() == 1);
    engine.stop();
}

}  // namespace tandem::test

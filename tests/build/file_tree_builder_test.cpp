// The file-tree builder end to end: real builds of a shell command on a real runtime, outputs in
// a real store, and a counter file the build appends to, so that a reuse is seen to run nothing.
#include "support/temp_dir.hpp"

#include "build/file_tree_builder.hpp"

#include <tandem/artifact_store.hpp>
#include <tandem/policy.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <mutex>

namespace fs = std::filesystem;
using namespace tandem;
using namespace tandem::test;

namespace {

struct Bench {
    TempDir dir;
    fs::path tree = dir.path() / "snapshot";
    fs::path counter = dir.path() / "builds-run";
    std::mutex mutex;
    std::vector<RuntimeEvent> events;
    std::unique_ptr<Executor> runtime;

    Bench() {
        dir.write("snapshot/src/input.txt", "one\n");
        dir.write("snapshot/data.txt", "data\n");
        ExecutorOptions options;
        options.project_root = tree;
        options.state_dir = dir.path() / "runtime";
        auto started = Executor::start(options, [this](const RuntimeEvent& e) {
            std::lock_guard lock(mutex);
            events.push_back(e);
        });
        REQUIRE_MESSAGE(started.ok(), started.error().to_string());
        runtime = std::move(*started);
    }
    ~Bench() { runtime->stop_all(); }

    // A build that copies its input to out/ and appends a line to the counter file, then runs `then`.
    std::string counting(const std::string& then = "true") const {
        return "mkdir -p out && cp src/input.txt out/ && echo ran >> " + counter.string() + " && " + then;
    }
    Spec spec(const std::string& command) const {
        Spec spec;
        spec.project = "builder";
        ServiceSpec web;
        web.name = "web";
        web.build = BuildSpec{command, {"src/**"}, {"out"}, {}, false};
        web.run.argv = {"out/web"};
        spec.services.push_back(web);
        return spec;
    }
    // A builder and a store of their own on the same directories: as after an engine restart.
    Result<BuiltArtifact> build(const Spec& of) {
        ArtifactStore store(dir.path() / "store");
        FileTreeBuilder builder(*runtime, store, dir.path() / "builds", [this](const RuntimeEvent& e) {
            std::lock_guard lock(mutex);
            events.push_back(e);
        });
        auto policy = builtin_policy("wip");  // no sandbox: the build may append to the counter
        REQUIRE(policy.ok());
        auto built = builder.build(of, *policy, BuildSource{tree, "", dir.path() / "state", "", "test tree"}, {"web"});
        if (!built) return built.error();
        REQUIRE(built->size() == 1);
        return built->front();
    }
    int runs() const {
        const std::string text = read_text(counter);
        return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
    }
    std::string last_event() {
        std::lock_guard lock(mutex);
        for (auto it = events.rbegin(); it != events.rend(); ++it)
            if (it->kind == RuntimeEventKind::state && it->service == "web") return it->text;
        return {};
    }
};

}  // namespace

TEST_CASE("the file-tree builder builds once per key: an unchanged key reuses the stored artifact without running") {
    Bench bench;
    auto first = bench.build(bench.spec(bench.counting()));
    REQUIRE_MESSAGE(first.ok(), first.error().to_string());
    CHECK(first->outcome == BuildOutcome::built);
    CHECK(bench.runs() == 1);
    CHECK(first->artifact.kind == ArtifactKind::tree);
    ArtifactStore store(bench.dir.path() / "store");
    CHECK(store.contains(first->artifact.digest));
    CHECK(first->artifact.location == store.path_of(first->artifact.digest).string());
    CHECK(read_text(store.path_of(first->artifact.digest) / "out/input.txt") == "one\n");
    CHECK(bench.last_event().rfind("built artifact " + first->artifact.digest.substr(0, 19) + " of key " +
                                   first->key.digest.substr(0, 19), 0) == 0);
    CHECK_FALSE(fs::exists(bench.dir.path() / "builds" / "snapshot"));  // the scratch copy is gone

    // A file the build does not read changed; a new builder and store on the same state (a restart).
    bench.dir.write("snapshot/data.txt", "other data\n");
    auto again = bench.build(bench.spec(bench.counting()));
    REQUIRE(again.ok());
    CHECK(again->outcome == BuildOutcome::reused);
    CHECK(again->artifact == first->artifact);
    CHECK(again->key.digest == first->key.digest);
    CHECK(bench.runs() == 1);  // the command did not run
    CHECK(bench.last_event().rfind("reused artifact " + first->artifact.digest.substr(0, 19) + " of key " +
                                   first->key.digest.substr(0, 19), 0) == 0);

    // An input changed: built again.
    bench.dir.write("snapshot/src/input.txt", "two\n");
    auto changed = bench.build(bench.spec(bench.counting()));
    REQUIRE(changed.ok());
    CHECK(changed->outcome == BuildOutcome::built);
    CHECK(bench.runs() == 2);
    CHECK(changed->artifact.digest != first->artifact.digest);

    // The command changed: built again, though the inputs are as before.
    auto recommanded = bench.build(bench.spec(bench.counting("echo again")));
    REQUIRE(recommanded.ok());
    CHECK(recommanded->outcome == BuildOutcome::built);
    CHECK(bench.runs() == 3);
}

TEST_CASE("a failed build fails the call, remembers no key and leaves no scratch copy") {
    Bench bench;
    auto failed = bench.build(bench.spec(bench.counting("exit 3")));
    REQUIRE_FALSE(failed.ok());
    CHECK(bench.runs() == 1);
    CHECK_FALSE(fs::exists(bench.dir.path() / "builds" / "snapshot"));
    // Nothing was stored under its key: the same build runs (and fails) again.
    CHECK_FALSE(bench.build(bench.spec(bench.counting("exit 3"))).ok());
    CHECK(bench.runs() == 2);
}

// The runtime state file: round trip, missing and corrupt files, atomic saves.
#include "runtime/process/runtime_state.hpp"

#include <doctest/doctest.h>

#include "support/temp_dir.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace {

using tandem::process::ReplicaRecord;
using tandem::process::RuntimeStateFile;
using tandem::test::TempDir;

std::vector<ReplicaRecord> two_records() {
    ReplicaRecord api{"api", 0, 4242, 123456789012ULL, 41001, "sha256:abcdef", "2024-05-01T10:00:00Z", {}};
    ReplicaRecord worker{"worker", 1, 4343, 77, 0, "", "", {}};
    return {api, worker};
}

void check_same(const ReplicaRecord& a, const ReplicaRecord& b) {
    CHECK(a.service == b.service);
    CHECK(a.replica == b.replica);
    CHECK(a.pid == b.pid);
    CHECK(a.start_ticks == b.start_ticks);
    CHECK(a.port == b.port);
    CHECK(a.artifact == b.artifact);
    CHECK(a.started_at == b.started_at);
}

TEST_CASE("runtime state round trips through its file, creating the directory") {
    TempDir dir;
    RuntimeStateFile file(dir.path() / "state" / "runtime" / "replicas.json");
    const auto records = two_records();
    REQUIRE(file.save(records).ok());
    auto loaded = file.load();
    REQUIRE(loaded.ok());
    REQUIRE(loaded->size() == 2);
    check_same((*loaded)[0], records[0]);
    check_same((*loaded)[1], records[1]);

    const std::string text = tandem::test::read_text(file.path());
    CHECK(text.find("\"version\": 1") != std::string::npos);

    REQUIRE(file.save({}).ok());
    loaded = file.load();
    REQUIRE(loaded.ok());
    CHECK(loaded->empty());
}

TEST_CASE("a missing runtime state file means nothing was running") {
    TempDir dir;
    auto loaded = RuntimeStateFile(dir.path() / "nope" / "replicas.json").load();
    REQUIRE(loaded.ok());
    CHECK(loaded->empty());
}

TEST_CASE("a corrupt runtime state file is an error naming the file") {
    TempDir dir;
    const char* contents[] = {
        "{\"version\": 1, \"replicas\": [",                               // torn
        "{\"version\": 2, \"replicas\": []}",                             // from the future
        "{\"version\": 1, \"replicas\": [{\"service\": \"api\"}]}",       // fields missing
        "{\"version\": 1, \"replicas\": [{\"service\": \"api\", \"replica\": 0, \"pid\": \"x\", \"start_ticks\": 1}]}",
        "[]",
        "",
    };
    for (const char* content : contents) {
        CAPTURE(content);
        const auto path = dir.write("replicas.json", content);
        auto loaded = RuntimeStateFile(path).load();
        REQUIRE_FALSE(loaded.ok());
        CHECK(loaded.error().to_string().find(path.string()) != std::string::npos);
    }
    const auto path = dir.write("replicas.json", "{\"version\": 7, \"replicas\": []}");
    CHECK(RuntimeStateFile(path).load().error().message.find("version 7") != std::string::npos);
}

TEST_CASE("saving leaves no temporary file behind and replaces the old contents") {
    TempDir dir;
    RuntimeStateFile file(dir.path() / "replicas.json");
    REQUIRE(file.save(two_records()).ok());
    REQUIRE(file.save({two_records()[1]}).ok());
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        names.push_back(entry.path().filename().string());
    }
    CHECK(names == std::vector<std::string>{"replicas.json"});
    auto loaded = file.load();
    REQUIRE(loaded.ok());
    REQUIRE(loaded->size() == 1);
    CHECK((*loaded)[0].service == "worker");
}

TEST_CASE("saving into a directory that cannot be created is an error") {
    TempDir dir;
    const auto blocker = dir.write("file", "not a directory");
    RuntimeStateFile file(blocker / "replicas.json");
    auto saved = file.save(two_records());
    REQUIRE_FALSE(saved.ok());
    CHECK(saved.error().to_string().find(blocker.string()) != std::string::npos);
}

}  // namespace

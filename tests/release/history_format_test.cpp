// The release history file in the words earlier versions wrote: `how` is an enum in memory, but
// a file written before it loads and is saved back byte for byte.
#include <doctest/doctest.h>

#include <tandem/release_history.hpp>

#include "support/temp_dir.hpp"

#include <fstream>

using namespace tandem;
using tandem::test::read_text;
using tandem::test::TempDir;

namespace {

std::string record(const std::string& commit, const std::string& how) {
    return "    {\n"
           "      \"actor\": \"poll\",\n"
           "      \"artifacts\": {\n"
           "        \"web\": \"sha256:" + std::string(64, 'b') + "\"\n"
           "      },\n"
           "      \"author\": \"Ada <ada@example.com>\",\n"
           "      \"commit\": \"" + commit + "\",\n"
           "      \"deployed\": \"2026-11-25T17:15:56.123Z\",\n"
           "      \"how\": \"" + how + "\",\n"
           "      \"subject\": \"s\"\n"
           "    }";
}

// A history file as the previous version saved it (nlohmann's dump(2), keys sorted).
std::string old_history(const std::string& rejected_how = "rejected") {
    return "{\n"
           "  \"deployed\": \"c3\",\n"
           "  \"deploying\": \"\",\n"
           "  \"interrupted_commit\": \"\",\n"
           "  \"interrupted_deploys\": 0,\n"
           "  \"pinned\": true,\n"
           "  \"pinned_head\": \"c4\",\n"
           "  \"previous\": \"c2\",\n"
           "  \"rejected\": {\n"
           "    \"c5\": \"reverted: its rollout failed\"\n"
           "  },\n"
           "  \"rejections\": [\n" +
           record("c5", rejected_how) + "\n  ],\n"
           "  \"releases\": [\n" +
           record("c3", "rollback") + ",\n" + record("c2", "revert") + ",\n" + record("c1", "recover") + ",\n" +
           record("c0", "deploy") + "\n  ],\n"
           "  \"running_from\": {\n"
           "    \"web\": \"c3\"\n"
           "  },\n"
           "  \"version\": 1\n"
           "}\n";
}

}  // namespace

TEST_CASE("a release history written by earlier versions loads, and saves back byte for byte") {
    TempDir dir;
    const auto file = dir.path() / "history.json";
    std::ofstream(file) << old_history();
    auto history = ReleaseHistory::load(file);
    REQUIRE(history);
    REQUIRE(history->releases.size() == 4);
    CHECK(history->releases[0].how == ChangeEvent::rollback);
    CHECK(history->releases[1].how == ChangeEvent::revert);
    CHECK(history->releases[2].how == ChangeEvent::recover);
    CHECK(history->releases[3].how == ChangeEvent::deploy);
    REQUIRE(history->rejections.size() == 1);
    CHECK(history->rejections[0].how == ChangeEvent::rejected);

    const auto saved = dir.path() / "saved.json";
    REQUIRE(history->save(saved));
    CHECK(read_text(saved) == old_history());
}

TEST_CASE("a history record whose how no version writes is a corrupt history, named") {
    TempDir dir;
    const auto file = dir.path() / "history.json";
    std::ofstream(file) << old_history("teleported");
    auto history = ReleaseHistory::load(file);
    REQUIRE_FALSE(history);
    CHECK(history.error().location.file == file.string());
    CHECK_MESSAGE(history.error().message.find("unknown how 'teleported'") != std::string::npos,
                  history.error().message);
}

// `state:` under shipper: a service's data lives under the engine's state dir, outside every
// (read-only) release, and is kept across releases and rollbacks; harness refuses a reset
// and touches nothing.
#include "release/release_fixture.hpp"

#include <doctest/doctest.h>

#include <string>

namespace fs = std::filesystem;
using namespace tandem;
using namespace tandem::test;

namespace {

// A db that appends its release's name to a file in its state each time it starts.
std::string stateful_yaml(const std::string& release) {
    return "version: 1\n"
           "project: ledger\n"
           "services:\n"
           "  db:\n"
           "    run: echo ${state.data} > ${state.data}/where; echo " + release +
           " >> ${state.data}/log; exec sleep 600\n"
           "    state: [data]\n"
           "    stop_grace: 1s\n";
}

std::string log_of(const fs::path& data) { return fs::exists(data / "log") ? read_text(data / "log") : "<missing>"; }

}  // namespace

TEST_CASE("shipper keeps a service's state outside its releases: release A's data is there after release B and after a rollback") {
    Upstream upstream;
    TempDir state;
    const auto a = upstream.commit({{"tandem.yaml", stateful_yaml("A")}}, "A");
    Engine engine(upstream.path(), state.path());
    REQUIRE(engine.deployed(a));
    const fs::path data = state.path() / "state" / "data";
    REQUIRE(eventually([&] { return log_of(data) == "A\n"; }, std::chrono::seconds(10)));
    CHECK(read_text(data / "where") == data.string() + "\n");
    CHECK_FALSE(fs::exists(state.path() / "releases" / a / ".tandem"));  // nothing written in the release

    const auto b = upstream.commit({{"tandem.yaml", stateful_yaml("B")}}, "B");
    REQUIRE(engine.deployed(b));
    CHECK(eventually([&] { return log_of(data) == "A\nB\n"; }, std::chrono::seconds(10)));

    auto rolled_back = engine.loop->rollback(a, "user test");
    REQUIRE_MESSAGE(rolled_back.ok(), rolled_back.error().to_string());
    CHECK(engine.status().deployed == a);
    CHECK(eventually([&] { return log_of(data) == "A\nB\nA\n"; }, std::chrono::seconds(10)));

    // Harness denies database.reset: refused, and the data is untouched.
    auto reset = engine.loop->reset("db", "user test");
    REQUIRE_FALSE(reset.ok());
    CHECK(reset.error().code == ErrorCode::policy_denied);
    CHECK(log_of(data) == "A\nB\nA\n");
}

// A commit whose tandem.yaml would expand to gigabytes through aliases, pushed to a repository
// a real `shipper run` follows: refused and audited at the alias, the running release serving on.
#include "release/release_fixture.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

// project_yaml(port) with web's run list grown by one 100 KB string and 50,000 aliases of it:
// ~300 KB of YAML, ~5 GB once every alias is a string.
std::string aliased_project(int port) {
    std::string yaml = project_yaml(port);
    const std::string run = "run: [";
    const auto at = yaml.find(run);
    REQUIRE(at != std::string::npos);
    std::string aliases = "&s \"" + std::string(100 * 1024, 'x') + "\"";
    for (int i = 0; i < 50'000; ++i) aliases += ", *s";
    yaml.insert(at + run.size(), aliases + ", ");
    return yaml;
}

}  // namespace

TEST_CASE("shipper refuses and audits a commit whose tandem.yaml expands past the YAML limits, and keeps serving") {
    ShipperRun run;
    auto& [upstream, state, port, first, log, engine] = run;
    auto release = [&] { return run.release(); };
    REQUIRE(served_version(port) == "v1");

    const auto hostile = upstream.commit({{"tandem.yaml", aliased_project(port)}, {"version.txt", "v2\n"}}, "aliases");
    REQUIRE_MESSAGE(eventually([&] { return release().value("head", "") == hostile && release().value("head_rejected", "") != ""; },
                               60000ms),
                    read_text(log).substr(0, 4000));
    const auto status = release();
    CHECK(status.value("deployed", "") == first);
    const std::string error = status.value("last_error", "");
    CHECK_MESSAGE(error.find("tandem.yaml:") != std::string::npos, error.substr(0, 400));
    CHECK_MESSAGE(error.find("16 MiB") != std::string::npos, error.substr(0, 400));
    CHECK(served_version(port) == "v1");

    const auto records = audit_records(state.path());
    REQUIRE(!records.empty());
    CHECK(records.back().entry.event == ChangeEvent::refused);
    CHECK(records.back().entry.commit == hostile);
    CHECK(records.back().entry.message.find("the alias *s") != std::string::npos);
    CHECK(records.back().entry.message.size() < 1000);
    const auto verified = shipper(state.path(), {"audit", "verify"});
    CHECK_MESSAGE(verified.exit_code == 0, verified.err);
    engine.stop();
}

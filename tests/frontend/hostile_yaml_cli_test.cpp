// devloop validate on a tandem.yaml of aliases that would expand to ~5 GB, run with its address
// space capped at 1 GiB: it exits 1 with the alias's file:line:col and the limit, not bad_alloc.
#include <doctest/doctest.h>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <string>

using tandem::test::run_command;
using tandem::test::TempDir;

TEST_CASE("devloop validate refuses a tandem.yaml whose aliases expand to gigabytes, within 1 GiB of memory") {
    TempDir dir;
    std::string yaml = "version: 1\nservices:\n  api:\n    run: [&s \"" + std::string(100 * 1024, 'x') + "\"";
    for (int i = 0; i < 50'000; ++i) yaml += ", *s";
    yaml += "]\n";
    dir.write("tandem.yaml", yaml);
    // ulimit -v in a shell of its own: the cap holds for devloop only.
    const auto result = run_command(
        {"sh", "-c", "ulimit -v 1048576 && exec \"$0\" validate -f tandem.yaml", TANDEM_DEVLOOP}, dir.path());
    INFO(result.err.substr(0, 600));
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("tandem.yaml:4:") != std::string::npos);
    CHECK(result.err.find("the alias *s") != std::string::npos);
    CHECK(result.err.find("16 MiB") != std::string::npos);
    CHECK(result.err.find("bad_alloc") == std::string::npos);
}

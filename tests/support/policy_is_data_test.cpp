// "Policy is data": the library's code never names a built-in policy set or tests a mode.
// The names live only in policies/*.yaml, which the build compiles in.
#include <doctest/doctest.h>

#include "support/temp_dir.hpp"

#include <filesystem>
#include <regex>

namespace fs = std::filesystem;

TEST_CASE("no code under core/ names a built-in policy set or branches on a mode") {
    const std::regex forbidden(R"re("(wip|harness)"|\b[Mm]ode\s*==)re");
    int files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(TANDEM_SOURCE_DIR) / "core")) {
        const auto ext = entry.path().extension();
        if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
        ++files;
        const std::string text = tandem::test::read_text(entry.path());
        std::smatch match;
        INFO(entry.path().string());
        CHECK_FALSE(std::regex_search(text, match, forbidden));
    }
    CHECK(files > 10);
}

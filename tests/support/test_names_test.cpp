// CTest registers each doctest case by name and splits names at ';': a case named with one
// would be registered as two filters that match nothing, and "pass" without running.
#include <doctest/doctest.h>

#include "support/temp_dir.hpp"

#include <filesystem>
#include <regex>

namespace fs = std::filesystem;

TEST_CASE("no test case name holds a semicolon, which CTest would split into cases that never run") {
    const std::regex with_semicolon(R"re(TEST_CASE\("[^"]*;)re");
    int files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(TANDEM_SOURCE_DIR) / "tests")) {
        if (!entry.is_regular_file() || entry.path().extension() != ".cpp") continue;
        ++files;
        const std::string text = tandem::test::read_text(entry.path());
        INFO(entry.path().string());
        CHECK_FALSE(std::regex_search(text, with_semicolon));
    }
    CHECK(files > 20);
}

// A real service printing 100 MB: the ring and the rotated files stay within their limits.
#include "runtime/process/child_process.hpp"
#include "runtime/log_store.hpp"

#include "process/process_test_support.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/resource.h>

#include <optional>

namespace tandem::process {
namespace {

TEST_CASE("a service printing 100 MB keeps the ring within its bytes and the files rotated") {
    asio::io_context io;
    test::TempDir dir;
    const LogStore::Limits limits{.ring_lines = 100000, .ring_bytes = 1024 * 1024, .file_bytes = 4 * 1024 * 1024,
                                  .files_kept = 3};
    LogStore store(dir.path(), limits);
    std::size_t lines_seen = 0;
    std::optional<ExitStatus> exit;
    auto spawned = ChildProcess::spawn(
        io, {{test::test_service(), "--print-lines", "100000", "--line-bytes", "1000", "--exit-after", "0", "--exit-code", "0"}, {}, {}},
        [&](LogStream stream, std::string_view text) {
            ++lines_seen;
            store.append(LogLine{std::chrono::system_clock::now(), "loud", 0, stream, std::string(text)});
        },
        [&](ExitStatus status) { exit = status; });
    REQUIRE(spawned.ok());
    REQUIRE(test::run_until(io, [&] { return exit.has_value(); }, std::chrono::seconds(120)));
    CHECK(exit->clean());
    CHECK(lines_seen == 100000);
#ifndef __SANITIZE_ADDRESS__  // ASan's quarantine holds freed memory on purpose
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    CHECK(usage.ru_maxrss < 80 * 1024);  // KiB: the 100 MB went through, it was never held
#endif

    const auto tail = store.tail("loud", 100000);
    std::size_t ring_bytes = 0;
    for (const auto& line : tail) ring_bytes += line.text.size();
    CHECK(ring_bytes <= limits.ring_bytes);
    CHECK(tail.size() >= limits.ring_bytes / 1000 - 1);  // the ring is full, not emptied
    REQUIRE_FALSE(tail.empty());
    CHECK(tail.back().text.rfind("99999 ", 0) == 0);  // the newest line is the last one printed
    CHECK(tail.front().text.rfind(std::to_string(100000 - tail.size()) + " ", 0) == 0);

    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        ++files;
        CHECK(entry.file_size() <= limits.file_bytes);
        CHECK(entry.file_size() > 0);
    }
    CHECK(files == static_cast<std::size_t>(limits.files_kept) + 1);
    CHECK(std::filesystem::exists(dir.path() / "loud.log.3"));
    CHECK_FALSE(std::filesystem::exists(dir.path() / "loud.log.4"));
    const auto newest = test::read_text(dir.path() / "loud.log");
    CHECK(newest.find(" loud[0] out| 99999 xxx") != std::string::npos);
}

}  // namespace
}  // namespace tandem::process

// LogRing, RotatingLogFile, format_log_line and LogStore, without processes.
#include "runtime/log_store.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>

namespace tandem::process {
namespace {

LogLine line_of(std::string text, std::string service = "api") {
    LogLine line;
    line.time = std::chrono::system_clock::time_point{};
    line.service = std::move(service);
    line.text = std::move(text);
    return line;
}

std::vector<std::string> texts(const std::vector<LogLine>& lines) {
    std::vector<std::string> out;
    for (const auto& line : lines) out.push_back(line.text);
    return out;
}

TEST_CASE("format_log_line: UTC time with milliseconds, service, replica, stream, text") {
    using namespace std::chrono;
    LogLine line;
    line.time = sys_days{year{2026} / 11 / 25} + hours{15} + minutes{4} + seconds{5} + milliseconds{123};
    line.service = "api";
    line.replica = 1;
    line.stream = LogStream::err;
    line.text = "text";
    CHECK(format_log_line(line) == "2026-11-25T15:04:05.123Z api[1] err| text");
    line.stream = LogStream::out;
    line.time = sys_days{year{1999} / 1 / 2} + milliseconds{7};
    line.replica = 0;
    CHECK(format_log_line(line) == "1999-01-02T00:00:00.007Z api[0] out| text");
}

TEST_CASE("LogRing keeps the newest lines within its line limit, oldest first in tail()") {
    LogRing ring(3, 1000);
    for (int i = 1; i <= 5; ++i) ring.push(line_of(std::to_string(i)));
    CHECK(ring.size() == 3);
    CHECK(ring.dropped() == 2);
    CHECK(texts(ring.tail(10)) == std::vector<std::string>{"3", "4", "5"});
    CHECK(texts(ring.tail(2)) == std::vector<std::string>{"4", "5"});
    CHECK(ring.tail(0).empty());
    CHECK(ring.bytes() == 3);
}

TEST_CASE("LogRing keeps its byte limit, and truncates a line bigger than the whole ring") {
    LogRing ring(100, 10);
    ring.push(line_of("aaaa"));
    ring.push(line_of("bbbb"));
    ring.push(line_of("cccc"));  // 12 bytes would pass the limit: "aaaa" goes
    CHECK(texts(ring.tail(10)) == std::vector<std::string>{"bbbb", "cccc"});
    CHECK(ring.bytes() == 8);
    ring.push(line_of(std::string(25, 'z')));
    CHECK(texts(ring.tail(10)) == std::vector<std::string>{std::string(10, 'z')});
    CHECK(ring.bytes() == 10);
    CHECK(ring.dropped() == 3);
}

TEST_CASE("RotatingLogFile rotates path -> path.1 -> path.2 and drops the oldest") {
    test::TempDir dir;
    const auto path = dir.path() / "nested" / "api.log";  // parent directories are created
    const std::size_t line_size = format_log_line(line_of("line 0")).size() + 1;
    RotatingLogFile file(path, 2 * line_size, 2);  // two lines per file
    for (int i = 0; i < 7; ++i) REQUIRE(file.append(line_of("line " + std::to_string(i))).ok());
    auto lines_in = [](const std::filesystem::path& p) {
        std::vector<std::string> out;
        std::istringstream in(test::read_text(p));
        for (std::string text; std::getline(in, text);) out.push_back(text.substr(text.find("| ") + 2));
        return out;
    };
    CHECK(lines_in(path) == std::vector<std::string>{"line 6"});
    CHECK(lines_in(path.string() + ".1") == std::vector<std::string>{"line 4", "line 5"});
    CHECK(lines_in(path.string() + ".2") == std::vector<std::string>{"line 2", "line 3"});
    CHECK_FALSE(std::filesystem::exists(path.string() + ".3"));
    CHECK(std::filesystem::file_size(path.string() + ".1") <= 2 * line_size);
}

TEST_CASE("RotatingLogFile appends to an existing file and counts its size") {
    test::TempDir dir;
    const auto path = dir.write("svc.log", std::string(90, 'x') + "\n");
    RotatingLogFile file(path, 100, 1);
    REQUIRE(file.append(line_of("next")).ok());  // 91 + this line passes 100: rotate first
    CHECK(test::read_text(path.string() + ".1") == std::string(90, 'x') + "\n");
    CHECK(test::read_text(path) == format_log_line(line_of("next")) + "\n");
}

TEST_CASE("RotatingLogFile reports an error naming the file it cannot write") {
    test::TempDir dir;
    const auto blocker = dir.write("not-a-dir", "");
    RotatingLogFile file(blocker / "api.log", 1000, 2);
    auto result = file.append(line_of("x"));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::io);
    CHECK(result.error().message.find((blocker / "api.log").string()) != std::string::npos);
}

TEST_CASE("LogStore keeps a ring and a file per service and feeds its subscribers") {
    test::TempDir dir;
    LogStore store(dir.path() / "logs", {.ring_lines = 2, .ring_bytes = 1000, .file_bytes = 1000, .files_kept = 1});
    std::vector<std::string> seen;
    const int id = store.subscribe([&](const LogLine& line) { seen.push_back(line.service + ":" + line.text); });
    store.append(line_of("a1", "api"));
    store.append(line_of("w1", "worker"));
    store.append(line_of("a2", "api"));
    store.unsubscribe(id);
    store.append(line_of("a3", "api"));
    CHECK(seen == std::vector<std::string>{"api:a1", "worker:w1", "api:a2"});
    CHECK(texts(store.tail("api", 10)) == std::vector<std::string>{"a2", "a3"});
    CHECK(texts(store.tail("worker", 10)) == std::vector<std::string>{"w1"});
    CHECK(store.tail("nobody", 10).empty());
    const auto api_file = test::read_text(dir.path() / "logs" / "api.log");
    CHECK(api_file.find("api[0] out| a1\n") != std::string::npos);
    CHECK(api_file.find("api[0] out| a3\n") != std::string::npos);
    CHECK(std::filesystem::exists(dir.path() / "logs" / "worker.log"));
}

TEST_CASE("a LogStore subscriber may read the store it is called from") {
    LogStore store({}, {});  // no directory: rings only
    std::size_t seen_in_ring = 0;
    store.subscribe([&](const LogLine& line) { seen_in_ring = store.tail(line.service, 10).size(); });
    store.append(line_of("one"));
    CHECK(seen_in_ring == 1);
}

}  // namespace
}  // namespace tandem::process

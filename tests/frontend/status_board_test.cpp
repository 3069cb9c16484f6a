// The status board of `up`: plain lines when not on a terminal, a board redrawn in place on one.
#include <doctest/doctest.h>

#include "frontend/event_line_printer.hpp"
#include "frontend/status_board.hpp"

#include <sstream>

using tandem::RuntimeEvent;
using tandem::RuntimeEventKind;
using tandem::cli::BoardOptions;
using tandem::cli::StatusBoard;

namespace {

// 2026-11-25T15:04:05.123Z, plus `ms` milliseconds.
std::chrono::system_clock::time_point at(int ms) {
    return std::chrono::system_clock::time_point{std::chrono::milliseconds(1795619045123LL + ms)};
}

RuntimeEvent event(RuntimeEventKind kind, const std::string& service, const std::string& text, int replica = 0,
                   std::chrono::system_clock::time_point time = std::chrono::system_clock::now()) {
    return RuntimeEvent{kind, service, text, replica, false, time};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The board's lines as the terminal would show them last: the last `rows` lines after the
// last clearing (what comes before them there scrolled above the board).
std::vector<std::string> last_board(const std::string& out, std::size_t rows) {
    const auto at = out.rfind("\033[J");
    std::istringstream rest(out.substr(at == std::string::npos ? 0 : at + 3));
    std::vector<std::string> lines;
    for (std::string line; std::getline(rest, line);) lines.push_back(line);
    if (lines.size() > rows) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(rows));
    return lines;
}

std::string without_colour(std::string text) {
    for (auto at = text.find('\033'); at != std::string::npos; at = text.find('\033')) {
        const auto end = text.find_first_of("mAJ", at);
        text.erase(at, end - at + 1);
    }
    return text;
}

struct FakeClock {
    std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
};

}  // namespace

TEST_CASE("off a terminal, the board prints every event as a plain prefixed line") {
    std::ostringstream out;
    StatusBoard board({"store", "api"}, out);
    board.on_event(event(RuntimeEventKind::action, "api", "build (first start)"));
    board.on_event(event(RuntimeEventKind::log, "api", "compiling", 0, at(0)));
    board.on_event(event(RuntimeEventKind::state, "api", "starting"));
    board.on_event(event(RuntimeEventKind::log, "api", "listening on 8080", 2, at(7)));
    board.on_event(event(RuntimeEventKind::crash, "api", "replica 2 exited with status 1", 2));
    board.on_event(event(RuntimeEventKind::failure, "store", "build failed: exit 2"));
    board.note("up: every service is running; Ctrl+C stops them");
    board.tick();  // nothing to redraw off a terminal
    CHECK(out.str() == "api        | » build (first start)\n"
                       "2026-11-25T15:04:05.123Z api[0] out| compiling\n"
                       "api        | » starting\n"
                       "2026-11-25T15:04:05.130Z api[2] out| listening on 8080\n"
                       "api        | crashed: replica 2 exited with status 1\n"
                       "store      | error: build failed: exit 2\n"
                       "tandem     | » up: every service is running; Ctrl+C stops them\n");
    CHECK_FALSE(contains(out.str(), "\033"));
}

TEST_CASE("on a terminal, logs scroll above a board of one line per service, redrawn in place") {
    std::ostringstream out;
    FakeClock clock;
    BoardOptions options;
    options.terminal = true;
    options.columns = [] { return 100; };
    options.clock = [&clock] { return clock.now; };
    StatusBoard board({"store", "api"}, out, options);

    board.on_event(event(RuntimeEventKind::action, "store", "build (first start)"));
    board.on_event(event(RuntimeEventKind::state, "store", "ready"));
    board.on_event(event(RuntimeEventKind::log, "api", "hello from api", 1));
    tandem::ServiceStatus api;
    api.name = "api";
    api.state = tandem::ServiceState::ready;
    api.port = 8080;
    api.replicas = {tandem::ReplicaStatus{1, "pid 10", 4000, tandem::Health::healthy, true, {}},
                    tandem::ReplicaStatus{2, "pid 11", 4001, tandem::Health::unknown, false, {}}};
    board.update({api});
    clock.now += std::chrono::seconds(75);
    board.tick();

    const std::string text = out.str();
    CHECK(contains(text, "\033[2A\r\033[J"));  // up over the two board lines, then clear below
    CHECK(contains(without_colour(text), " api[1] out| hello from api\n"));
    CHECK_FALSE(contains(without_colour(text), "| » ready"));  // a state change redraws; it does not scroll
    const auto lines = last_board(text, 2);
    REQUIRE(lines.size() == 2);
    CHECK(without_colour(lines[0]) == "store   ready     1m15s   0/0");
    CHECK(without_colour(lines[1]) == "api     ready     1m15s   1/2   :8080");
    CHECK(contains(lines[0], "\033[32mready\033[0m"));
}

TEST_CASE("a crash shows on the board with its error, cut to the terminal's width") {
    std::ostringstream out;
    BoardOptions options;
    options.terminal = true;
    options.columns = [] { return 50; };
    StatusBoard board({"api"}, out, options);
    board.tick();  // the first drawing: nothing to erase yet
    CHECK_FALSE(contains(out.str(), "\033[1A"));
    board.on_event(event(RuntimeEventKind::crash, "api",
                         "replica 1 exited with status 1 after printing a very long complaint about its config", 1));
    const auto lines = last_board(out.str(), 1);
    REQUIRE(lines.size() == 1);
    CHECK(contains(out.str(), "\033[1A\r\033[J"));
    const std::string shown = without_colour(lines[0]);
    CHECK(shown == "api     crashed   0s      0/0          replica 1~");  // 49 columns: one spare

    CHECK(contains(out.str(), "crashed: replica 1 exited"));  // the crash itself scrolls above as a line
}

TEST_CASE("devloop up and shipper run print a log line alike, in the format of logs and the log files") {
    for (const bool is_stderr : {false, true}) {
        const RuntimeEvent line{RuntimeEventKind::log, "api", "listening on 8080", 3, is_stderr, at(0)};
        const std::string expected =
            std::string("2026-11-25T15:04:05.123Z api[3] ") + (is_stderr ? "err" : "out") + "| listening on 8080\n";
        CHECK(tandem::format_log_line(line) + "\n" == expected);  // what `logs` and the log files hold

        std::ostringstream devloop_up;
        StatusBoard({"api"}, devloop_up).on_event(line);
        CHECK(devloop_up.str() == expected);

        std::ostringstream terminal;
        BoardOptions options;
        options.terminal = true;
        StatusBoard({"api"}, terminal, options).on_event(line);
        CHECK(contains(without_colour(terminal.str()), expected));

        std::ostringstream shipper_run, shipper_errors;
        tandem::cli::EventLinePrinter(shipper_run, shipper_errors, false, "shipper").print(line);
        CHECK(shipper_run.str() == expected);
        CHECK(shipper_errors.str().empty());
    }
}

TEST_CASE("the board's columns: hours, three-digit replica counts, restarts and the last error, each in its place") {
    std::ostringstream out;
    FakeClock clock;
    BoardOptions options;
    options.terminal = true;
    options.columns = [] { return 120; };
    options.clock = [&clock] { return clock.now; };
    StatusBoard board({"worker", "db"}, out, options);

    tandem::ServiceStatus worker;
    worker.name = "worker";
    worker.state = tandem::ServiceState::degraded;
    worker.port = 65535;
    tandem::ReplicaStatus routed;
    routed.routed = true;
    worker.replicas.assign(100, routed);
    worker.restarts = 12;
    worker.last_error = "replica 7 exited with status 3";
    tandem::ServiceStatus db;
    db.name = "db";
    db.state = tandem::ServiceState::completed;
    board.update({worker, db});
    clock.now += std::chrono::seconds(2 * 3600 + 5 * 60 + 59);
    board.tick();

    const auto lines = last_board(out.str(), 2);
    REQUIRE(lines.size() == 2);
    CHECK(without_colour(lines[0]) ==
          "worker  degraded  2h05m   100/100 :65535 restarts 12  replica 7 exited with status 3");
    CHECK(without_colour(lines[1]) == "db      completed 2h05m   0/0");
    CHECK(contains(lines[0], "\033[33mdegraded\033[0m"));

    std::ostringstream plain;
    StatusBoard plain_board({"worker", "db"}, plain);
    plain_board.on_event(event(RuntimeEventKind::failure, "db", "reset failed: exit 1"));
    plain_board.on_event(event(RuntimeEventKind::crash, "worker", "replica 2 exited with status 1"));
    CHECK(plain.str() == "db         | error: reset failed: exit 1\n"
                         "worker     | crashed: replica 2 exited with status 1\n");
}

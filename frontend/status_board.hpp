// What `up` shows while it runs: on a terminal, one line per service (state, time in it,
// replicas, last error) kept at the bottom and redrawn in place, with the services' logs
// scrolling above it; elsewhere, plain line-by-line output of the same events.
#pragma once

#include <tandem/runtime.hpp>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tandem::cli {

struct BoardOptions {
    bool terminal = false;                  // redraw in place, with colours; false: plain lines
    std::function<int()> columns;           // the terminal's width (unset: 80)
    std::function<std::chrono::steady_clock::time_point()> clock;  // unset: steady_clock::now
};

// Safe to call from any thread: runtime events arrive on the runtime's own thread.
class StatusBoard {
public:
    StatusBoard(const std::vector<std::string>& services, std::ostream& out, BoardOptions options = {});

    void on_event(const RuntimeEvent& event);
    // The runtime's view (replicas, port, restarts, last error); states it already reported by
    // event keep the time they were entered.
    void update(const std::vector<ServiceStatus>& services);
    // Redraws the board (elapsed times move); nothing in plain mode. Call about once a second.
    void tick();
    // A line of the tool's own ("up: every service is running"), as an event of no service.
    void note(const std::string& text, bool is_error = false);

private:
    struct Row {
        std::string name;
        ServiceState state = ServiceState::stopped;
        std::chrono::steady_clock::time_point since;
        int ready = 0;
        int replicas = 0;
        int port = 0;
        int restarts = 0;
        std::string last_error;
    };

    void apply_to_row(const RuntimeEvent& event);
    void enter_state(Row& row, ServiceState state);
    std::string event_line(const RuntimeEvent& event) const;
    const char* colour_of(const std::string& service) const;  // a service's colour on a terminal
    std::string row_line(const Row& row, int columns) const;
    std::string erase_board() const;
    std::string board() const;
    std::chrono::steady_clock::time_point now() const;

    std::ostream& out_;
    BoardOptions options_;
    std::vector<Row> rows_;                      // in the order the spec lists the services
    std::map<std::string, std::size_t> index_;  // name -> rows_ position
    std::size_t name_width_ = 6;
    std::size_t drawn_lines_ = 0;                // board lines on screen below the cursor's line
    mutable std::mutex mutex_;
};

}  // namespace tandem::cli

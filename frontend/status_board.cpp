// The status board of `up`: service lines redrawn in place under scrolling logs on a
// terminal, plain prefixed lines elsewhere.
#include "frontend/status_board.hpp"

#include "frontend/output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <ostream>

namespace tandem::cli {

namespace {

constexpr std::array<const char*, 6> kPalette{"\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m", "\033[96m"};
constexpr const char* kReset = "\033[0m";
constexpr const char* kRed = "\033[31m";
constexpr std::array kStates{ServiceState::stopped, ServiceState::building, ServiceState::starting,
                             ServiceState::ready,   ServiceState::degraded, ServiceState::crashed,
                             ServiceState::completed};

const char* state_colour(ServiceState state) {
    switch (state) {
        case ServiceState::ready:
        case ServiceState::completed: return "\033[32m";
        case ServiceState::crashed: return "\033[1;31m";
        case ServiceState::degraded: return "\033[33m";
        case ServiceState::building:
        case ServiceState::starting: return "\033[36m";
        case ServiceState::stopped: return "\033[2m";
    }
    return "";
}

// "ready" or "crashed: exit status 1" name a state (and why); "replica 3 started" does not.
std::optional<ServiceState> state_named_by(const std::string& text, std::string* why) {
    const auto colon = text.find(':');
    const std::string head = text.substr(0, colon);
    for (ServiceState state : kStates) {
        if (head != to_string(state)) continue;
        if (why && colon != std::string::npos) {
            const auto start = text.find_first_not_of(' ', colon + 1);
            *why = start == std::string::npos ? "" : text.substr(start);
        }
        return state;
    }
    return std::nullopt;
}

std::string elapsed_text(std::chrono::steady_clock::duration elapsed) {
    const long long s = std::max<long long>(0, std::chrono::duration_cast<std::chrono::seconds>(elapsed).count());
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

bool is_bad(const RuntimeEvent& e) { return e.kind == RuntimeEventKind::crash || e.kind == RuntimeEventKind::failure; }

}  // namespace

StatusBoard::StatusBoard(const std::vector<std::string>& services, std::ostream& out, BoardOptions options)
    : out_(out), options_(std::move(options)) {
    for (const auto& name : services) {
        name_width_ = std::max(name_width_, name.size());
        index_[name] = rows_.size();
        Row row;
        row.name = name;
        row.since = now();
        rows_.push_back(std::move(row));
    }
}

std::chrono::steady_clock::time_point StatusBoard::now() const {
    return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

void StatusBoard::enter_state(Row& row, ServiceState state) {
    if (row.state == state) return;
    row.state = state;
    row.since = now();
}

void StatusBoard::apply_to_row(const RuntimeEvent& event) {
    auto it = index_.find(event.service);
    if (it == index_.end()) return;
    Row& row = rows_[it->second];
    std::string why;
    switch (event.kind) {
        case RuntimeEventKind::state:
            if (auto state = state_named_by(event.text, &why)) {
                enter_state(row, *state);
                if (!why.empty() && (*state == ServiceState::crashed || *state == ServiceState::degraded))
                    row.last_error = why;
                if (*state == ServiceState::ready || *state == ServiceState::completed) row.last_error.clear();
            }
            break;
        case RuntimeEventKind::action:  // the runtime has no "building" state of its own: its build action is it
            if (event.text.rfind("build", 0) == 0 && event.text != "build done") enter_state(row, ServiceState::building);
            break;
        case RuntimeEventKind::crash:
            enter_state(row, ServiceState::crashed);
            row.last_error = event.text;
            break;
        case RuntimeEventKind::failure: row.last_error = event.text; break;
        case RuntimeEventKind::log: break;
    }
}

const char* StatusBoard::colour_of(const std::string& service) const {
    auto it = index_.find(service);
    return it == index_.end() ? "\033[1m" : kPalette[it->second % kPalette.size()];
}

// Log lines in the one log line format (as `shipper run` and `logs` print them, the prefix
// coloured on a terminal); the engine's own events as "api        | » ready".
std::string StatusBoard::event_line(const RuntimeEvent& e) const {
    if (e.kind == RuntimeEventKind::log) {
        const std::string line = format_log_line(e);
        if (!options_.terminal) return line + "\n";
        const auto text_at = line.find("| ") + 2;
        return fmt::format("{}{}{}{}\n", colour_of(e.service), line.substr(0, text_at), kReset, line.substr(text_at));
    }
    const std::string prefix = cell(e.service.empty() ? "tandem" : e.service, name_width_ + 5) + "| ";
    const char* marker = "";
    if (e.kind == RuntimeEventKind::crash) marker = "crashed: ";
    else if (e.kind == RuntimeEventKind::failure) marker = "error: ";
    else marker = "» ";
    if (!options_.terminal) return fmt::format("{}{}{}\n", prefix, marker, e.text);
    return fmt::format("{}{}{}{}{}{}{}\n", colour_of(e.service), prefix, kReset, is_bad(e) ? kRed : "", marker, e.text,
                       is_bad(e) ? kReset : "");
}

std::string StatusBoard::row_line(const Row& row, int columns) const {
    const std::string state = to_string(row.state);
    std::string text = cell(row.name, name_width_ + 2) + cell(state, 10) + cell(elapsed_text(now() - row.since), 8) +
                       cell(fmt::format("{}/{}", row.ready, row.replicas), 6) +
                       cell(row.port ? fmt::format(":{}", row.port) : "", 7);
    if (row.restarts > 0) text += fmt::format("restarts {}  ", row.restarts);
    if (!row.last_error.empty()) text += row.last_error;
    // Never wider than the terminal, or the line wraps and the cursor-up count goes wrong.
    const std::size_t width = static_cast<std::size_t>(std::max(columns - 1, 10));
    if (text.size() > width) text = text.substr(0, width - 1) + "~";
    while (!text.empty() && text.back() == ' ') text.pop_back();
    for (char& c : text)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    const std::size_t state_at = name_width_ + 2;
    if (text.size() < state_at + state.size()) return text;
    return fmt::format("{}{}{}{}{}", text.substr(0, state_at), state_colour(row.state), state, kReset,
                       text.substr(state_at + state.size()));
}

std::string StatusBoard::erase_board() const {
    if (drawn_lines_ == 0) return "";
    return fmt::format("\033[{}A\r\033[J", drawn_lines_);
}

std::string StatusBoard::board() const {
    const int columns = options_.columns ? options_.columns() : 80;
    std::string text;
    for (const auto& row : rows_) text += row_line(row, columns) + "\n";
    return text;
}

void StatusBoard::on_event(const RuntimeEvent& event) {
    std::lock_guard lock(mutex_);
    apply_to_row(event);
    if (!options_.terminal) {
        out_ << event_line(event) << std::flush;
        return;
    }
    // Log lines and notes scroll above the board; a state change only redraws it.
    std::string frame = erase_board();
    if (event.kind != RuntimeEventKind::state || event.service.empty() || index_.count(event.service) == 0 ||
        !state_named_by(event.text, nullptr))
        frame += event_line(event);
    frame += board();
    drawn_lines_ = rows_.size();
    out_ << frame << std::flush;
}

void StatusBoard::update(const std::vector<ServiceStatus>& services) {
    std::lock_guard lock(mutex_);
    for (const auto& s : services) {
        auto it = index_.find(s.name);
        if (it == index_.end()) continue;
        Row& row = rows_[it->second];
        if (row.state != ServiceState::building || s.state != ServiceState::stopped) enter_state(row, s.state);
        row.replicas = static_cast<int>(s.replicas.size());
        row.ready = 0;
        for (const auto& r : s.replicas)
            if (r.routed && r.health != Health::unhealthy) ++row.ready;
        row.port = s.port;
        row.restarts = s.restarts;
        row.last_error = s.last_error;  // a recovered service shows no stale error
    }
}

void StatusBoard::tick() {
    std::lock_guard lock(mutex_);
    if (!options_.terminal) return;
    out_ << erase_board() << board() << std::flush;
    drawn_lines_ = rows_.size();
}

void StatusBoard::note(const std::string& text, bool is_error) {
    on_event(RuntimeEvent{is_error ? RuntimeEventKind::failure : RuntimeEventKind::action, "", text, 0, is_error,
                          std::chrono::system_clock::now()});
}

}  // namespace tandem::cli

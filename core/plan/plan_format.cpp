// A plan as a table for people: a header, then one aligned row per action, wave by wave.
#include <tandem/plan.hpp>

#include "plan/actions.hpp"
#include <tandem/duration.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <array>
#include <iterator>

namespace tandem {

namespace {

// service | kind | what | notes (obligations, then the reason when it is news)
using Row = std::array<std::string, 4>;

std::string plural(long long count, const std::string& one, const std::string& many) {
    return fmt::format("{} {}", count, count == 1 ? one : many);
}

std::string header(const Plan& plan) {
    const std::string revision = plan.revision.empty() ? "" : " at revision " + plan.revision;
    const char* bootstrap = !plan.bootstrap ? ""
                            : plan.incident ? " — bootstrap (incident: explicit flag)"
                                            : " — bootstrap";
    const std::string audit = plan.audit_path ? *plan.audit_path : "off";
    const std::string history = plan.history_keep > 0 ? plural(plan.history_keep, "revision", "revisions") : "none";
    const std::string parallel =
        plan.max_parallel > 0 ? fmt::format("at most {} at a time", plural(plan.max_parallel, "update", "updates"))
                              : "all updates at once";
    return fmt::format("plan for policy '{}'{}{}\naudit: {} · history: {} · {}\n", plan.policy, revision, bootstrap,
                       audit, history, parallel);
}

// Display width: UTF-8 continuation bytes take no column.
std::size_t width(const std::string& text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// A cell on one line, so the columns after it stay aligned: a multi-line command's lines
// (trimmed, blank ones dropped) joined by " ⏎ ", and anything wider than kCellWidth cut with "…".
constexpr std::size_t kCellWidth = 60;

std::string one_line(const std::string& text) {
    std::string joined;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::size_t first = text.find_first_not_of(" \t\r", start);
        if (first < end) {
            const std::size_t last = text.find_last_not_of(" \t\r", end - 1);
            joined += (joined.empty() ? "" : " ⏎ ") + text.substr(first, last + 1 - first);
        }
        start = end + 1;
    }
    if (width(joined) <= kCellWidth) return joined;
    std::size_t columns = 0, cut = 0;
    for (; cut < joined.size(); ++cut) {
        const bool starts_character = (static_cast<unsigned char>(joined[cut]) & 0xC0) != 0x80;
        if (starts_character && ++columns == kCellWidth) break;  // room for the "…"
    }
    return joined.substr(0, cut) + "…";
}

std::string what(const Action& action) {
    switch (action.kind) {
        case ActionKind::build:
        case ActionKind::run: return one_line(action.command);
        case ActionKind::reset:
            if (action.state.empty()) return one_line(action.command);
            return one_line(fmt::format("empty {}{}{}", fmt::join(action.state, ", "),
                                        action.command.empty() ? "" : "; ", action.command));
        case ActionKind::start: return plural(action.replicas, "replica", "replicas");
        case ActionKind::replace:
            if (!action.rollout) return plural(action.replicas, "replica", "replicas");
            return fmt::format("{}, {}", plural(action.replicas, "replica", "replicas"),
                               to_string(action.rollout->strategy));
        case ActionKind::sync:
            return fmt::format("{}", fmt::join(action.paths, " "));
        case ActionKind::stop: return "";
    }
    return "";
}

// "image web:1 (pinned by digest)", "image of web/Dockerfile", "volumes data:/data, ./src:/src:ro".
void container_notes(const ContainerSpec& container, bool pin_digest, std::vector<std::string>& notes) {
    std::string image = container.image.empty() && container.build
                            ? "image of " + (std::filesystem::path(container.build->context) / container.build->dockerfile)
                                                .lexically_normal().generic_string()
                            : "image " + container.image;
    if (container.build && !container.build->target.empty()) image += " (target " + container.build->target + ")";
    if (pin_digest) image += " (pinned by digest)";
    notes.push_back(std::move(image));
    std::vector<std::string> volumes;
    for (const VolumeSpec& volume : container.volumes) volumes.push_back(volume.text);
    if (!volumes.empty()) notes.push_back(fmt::format("volumes {}", fmt::join(volumes, ", ")));
}

std::vector<std::string> obligations(const Action& action) {
    std::vector<std::string> notes;
    if (action.kind == ActionKind::build) {
        if (action.immutable) notes.push_back("immutable");
        if (action.sandboxed) notes.push_back("sandboxed");
        if (action.cancellable) notes.push_back("cancellable");
    }
    if (action.kind == ActionKind::replace && action.rollout && action.rollout->strategy == RolloutStrategy::rolling) {
        const RolloutParams& r = *action.rollout;
        notes.push_back(fmt::format("surge {}, unavailable {}", r.max_surge, r.max_unavailable));
        if (r.health_gate) notes.push_back("health gate " + format_duration(r.gate_timeout));
    }
    if (action.kind == ActionKind::start || action.kind == ActionKind::replace) {
        if (!action.artifact_digest.empty()) notes.push_back("artifact " + short_digest(action.artifact_digest));
        if (action.container) container_notes(*action.container, action.pin_digest, notes);
        notes.push_back(std::string("on crash: ") + to_string(action.on_crash));
        if (action.verify_digest) notes.push_back("digest checked");
        if (action.auto_revert) notes.push_back("auto-revert");
    }
    return notes;
}

std::vector<Row> rows_of(const Step& step) {
    std::vector<Row> rows;
    const std::string* previous_reason = nullptr;
    for (const Action& action : step.actions) {
        std::string notes = fmt::format("{}", fmt::join(obligations(action), " · "));
        // A reason repeated by the next action of the same service says nothing new.
        if (!previous_reason || *previous_reason != action.reason)
            notes += fmt::format("{}({})", notes.empty() ? "" : " ", action.reason);
        previous_reason = &action.reason;
        rows.push_back(Row{step.service, to_string(action.kind), what(action), notes});
    }
    return rows;
}

std::string format_row(const Row& row, const std::array<std::size_t, 4>& widths) {
    std::string line = "  ";
    for (std::size_t column = 0; column < row.size(); ++column) {
        line += row[column];
        const bool last = column + 1 == row.size() || std::all_of(row.begin() + static_cast<long>(column) + 1,
                                                                   row.end(), [](const auto& s) { return s.empty(); });
        if (last) break;
        // Padded by width() (characters), not by fmt's own width, which counts CJK as two.
        fmt::format_to(std::back_inserter(line), "{:{}}", "", widths[column] - width(row[column]) + 2);
    }
    return line + "\n";
}

}  // namespace

const char* to_string(ActionKind kind) {
    switch (kind) {
        case ActionKind::build: return "build";
        case ActionKind::start: return "start";
        case ActionKind::replace: return "replace";
        case ActionKind::stop: return "stop";
        case ActionKind::sync: return "sync";
        case ActionKind::run: return "run";
        case ActionKind::reset: return "reset";
    }
    return "unknown";
}

std::string waiting_lines(const Plan& plan) {
    std::string out;
    for (const Waiting& w : plan.waiting)
        fmt::format_to(std::back_inserter(out), "waiting: {} starts once {}\n", w.service, w.reason);
    return out;
}

std::string format_table(const Plan& plan) {
    if (plan.empty() && plan.waiting.empty()) return "nothing to do: the running services match the spec\n";
    if (plan.empty()) return waiting_lines(plan);
    std::vector<std::vector<std::vector<Row>>> waves;  // wave -> step -> rows
    std::array<std::size_t, 4> widths{};
    for (const Wave& wave : plan.waves) {
        auto& steps = waves.emplace_back();
        for (const Step& step : wave.steps) {
            steps.push_back(rows_of(step));
            for (const Row& row : steps.back())
                for (std::size_t column = 0; column < row.size(); ++column)
                    widths[column] = std::max(widths[column], width(row[column]));
        }
    }
    std::string out = header(plan);
    for (std::size_t w = 0; w < waves.size(); ++w) {
        fmt::format_to(std::back_inserter(out), "wave {}\n", w + 1);
        for (const auto& step_rows : waves[w])
            for (const Row& row : step_rows) out += format_row(row, widths);
    }
    return out + waiting_lines(plan);
}

}  // namespace tandem

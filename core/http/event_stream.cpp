// Event texts and the bounded per-stream queue.
#include "http/event_stream.hpp"

#include <tandem/utc_time.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace tandem::http {

using nlohmann::json;

namespace {

const char* kind_name(RuntimeEventKind kind) {
    switch (kind) {
        case RuntimeEventKind::log: return "log";
        case RuntimeEventKind::state: return "state";
        case RuntimeEventKind::action: return "action";
        case RuntimeEventKind::crash: return "crash";
        case RuntimeEventKind::failure: return "failure";
    }
    return "log";
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string sse_event(std::string_view name, std::string_view data) {
    std::string text;
    text.reserve(name.size() + data.size() + 16);
    text.append("event: ").append(name).append("\ndata: ").append(data).append("\n\n");
    return text;
}

namespace {

std::string runtime_event_json(const RuntimeEvent& event) {
    const auto time = event.time == std::chrono::system_clock::time_point{} ? std::chrono::system_clock::now() : event.time;
    json j{{"time", format_utc(time)}, {"kind", kind_name(event.kind)}, {"service", event.service},
           {"replica", event.replica}, {"stderr", event.is_stderr},     {"text", event.text}};
    if (event.action) j["action"] = to_string(*event.action);
    if (event.outcome != ActionOutcome::none) j["outcome"] = to_string(event.outcome);
    if (event.elapsed.count() >= 0) j["elapsed_ms"] = event.elapsed.count();
    return dump(j);
}

}  // namespace

std::string log_event(std::string_view line) { return sse_event("log", dump(json{{"line", line}})); }

StreamQueue::StreamQueue(std::size_t max_events, std::function<void()> wake)
    : max_events_(std::max<std::size_t>(max_events, 1)), wake_(std::move(wake)) {}

void StreamQueue::push(std::string text, bool droppable) {
    bool first = false;
    {
        std::lock_guard lock(mutex_);
        first = events_.empty() && !status_;
        if (events_.size() >= max_events_) {
            auto oldest = std::find_if(events_.begin(), events_.end(), [](const auto& e) { return e.second; });
            if (oldest == events_.end()) oldest = events_.begin();
            events_.erase(oldest);
            ++dropped_;
        }
        events_.emplace_back(std::move(text), droppable);
    }
    if (first && wake_) wake_();
}

void StreamQueue::set_status(std::string text) {
    bool first = false;
    {
        std::lock_guard lock(mutex_);
        first = events_.empty() && !status_;
        status_ = std::move(text);
    }
    if (first && wake_) wake_();
}

std::string StreamQueue::take() {
    std::lock_guard lock(mutex_);
    std::string text;
    if (dropped_ > 0) {
        text = sse_event("dropped", "{\"count\":" + std::to_string(dropped_) + "}");
        dropped_ = 0;
    }
    for (auto& event : events_) text += event.first;
    events_.clear();
    if (status_) text += *std::exchange(status_, std::nullopt);
    return text;
}

}  // namespace tandem::http

namespace tandem {

std::string to_json(const RuntimeEvent& event) { return http::runtime_event_json(event); }

}  // namespace tandem

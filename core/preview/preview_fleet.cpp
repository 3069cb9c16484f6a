// The fleet of deploy previews: its thread (a round every poll, or at once on a push), what it
// answers (list, route), its audit records and its names. The round itself: preview_round.cpp.
#include "preview/preview_state.hpp"

#include <tandem/utc_time.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>

namespace tandem {

namespace fs = std::filesystem;

std::string preview_name(const std::string& branch) {
    std::string name;
    for (unsigned char c : branch) {
        if (std::isalnum(c)) name += static_cast<char>(std::tolower(c));
        else if (!name.empty() && name.back() != '-') name += '-';
    }
    while (!name.empty() && name.back() == '-') name.pop_back();
    if (name.size() > 40) name.resize(40);
    while (!name.empty() && name.back() == '-') name.pop_back();
    return name.empty() ? "preview" : name;
}

std::string to_json(const std::vector<PreviewStatus>& previews, int indent) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : previews) {
        list.push_back({{"name", p.name},
                        {"branch", p.branch},
                        {"state", p.state},
                        {"why", p.why},
                        {"url", p.url},
                        {"commit", p.commit},
                        {"subject", p.subject},
                        {"deployed", p.deployed},
                        {"policy", p.policy},
                        {"state_dir", p.state_dir.string()},
                        {"ports", p.ports},
                        {"created", format_utc(p.created)},
                        {"pushed", format_utc(p.pushed)}});
    }
    return list.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::unique_ptr<PreviewFleet>> PreviewFleet::start(PreviewOptions options, EventHandler on_event) {
    if (options.state_dir.empty())
        return make_error(ErrorCode::usage, "previews: no state directory given");
    std::error_code ec;
    fs::create_directories(options.state_dir, ec);
    if (ec)
        return make_error(ErrorCode::io, fmt::format("previews: cannot create {}: {}", options.state_dir.string(),
                                                     ec.message()));
    auto mirror = GitMirror::open(options.state_dir / "mirror.git", options.repository);
    if (!mirror) return mirror.error();
    auto state = std::make_unique<State>(std::move(options), std::move(on_event), std::move(*mirror));
    auto audit = AuditLog::open(state->options.state_dir / "audit.jsonl");
    if (!audit) return audit.error();
    state->audit = std::move(*audit);
    State* raw = state.get();
    state->thread = std::thread([raw] { raw->run(); });
    return std::unique_ptr<PreviewFleet>(new PreviewFleet(std::move(state)));
}

PreviewFleet::PreviewFleet(std::unique_ptr<State> state) : state_(std::move(state)) {}

PreviewFleet::~PreviewFleet() { stop(); }

void PreviewFleet::stop() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->wake.notify_all();
    if (state_->thread.joinable()) state_->thread.join();
    state_->router.reset();
    // `running` stays as it is (kill_all reads it) until every preview has stopped.
    for (auto& [name, preview] : state_->running) {
        preview.control.reset();
        preview.engine->stop_following();
        preview.engine->executor().stop_all();
    }
    std::lock_guard lock(state_->mutex);
    state_->running.clear();
}

void PreviewFleet::kill_all() {
    std::lock_guard lock(state_->mutex);
    for (auto& [name, preview] : state_->running)
        if (preview.engine) preview.engine->kill_all();
}

void PreviewFleet::State::run() {
    auto next = std::chrono::steady_clock::now();  // the first round at once
    std::unique_lock lock(mutex);
    const bool polling = options.poll.count() > 0;
    auto due = [&] {
        return stopping || push.has_value() || rounds == 0 || (polling && std::chrono::steady_clock::now() >= next);
    };
    while (!stopping) {
        if (polling) wake.wait_until(lock, next, due);
        else wake.wait(lock, due);
        if (stopping) break;
        const std::string actor = push.value_or("poll");
        push.reset();
        in_round = true;
        lock.unlock();
        if (auto status = round(actor); !status) say("previews: " + status.error().to_string(), true);
        lock.lock();
        in_round = false;
        ++rounds;
        next = std::chrono::steady_clock::now() + options.poll;
        wake.notify_all();
    }
}

std::vector<PreviewStatus> PreviewFleet::list() const {
    std::lock_guard lock(state_->mutex);
    std::vector<PreviewStatus> out;
    for (const auto& [name, preview] : state_->previews) out.push_back(preview);
    return out;
}

std::string PreviewFleet::list_json() { return to_json(list(), -1); }

void PreviewFleet::pushed(const std::string& actor) {
    {
        std::lock_guard lock(state_->mutex);
        state_->push = actor;
    }
    state_->wake.notify_all();
}

Status PreviewFleet::sync(const std::string& actor) {
    std::unique_lock lock(state_->mutex);
    // The round under way may have fetched before the push: wait for one that starts after it.
    const std::uint64_t after = state_->rounds + (state_->in_round ? 2 : 1);
    state_->push = actor;
    state_->wake.notify_all();
    state_->wake.wait(lock, [&] { return state_->stopping || state_->rounds >= after; });
    if (state_->stopping) return make_error(ErrorCode::cancelled, "previews: the fleet stopped");
    return Ok{};
}

Engine* PreviewFleet::engine(const std::string& name) {
    std::lock_guard lock(state_->mutex);
    auto found = state_->running.find(name);
    return found == state_->running.end() ? nullptr : found->second.engine.get();
}

fs::path PreviewFleet::audit_path() const { return state_->options.state_dir / "audit.jsonl"; }

int PreviewFleet::route(const std::string& host) const { return state_->route(host); }

int PreviewFleet::State::route(const std::string& host) const {
    std::lock_guard lock(mutex);
    const std::string suffix = "." + domain;
    if (host.size() <= suffix.size() || host.compare(host.size() - suffix.size(), suffix.size(), suffix) != 0)
        return 0;
    const std::string labels = host.substr(0, host.size() - suffix.size());
    const std::size_t dot = labels.find('.');
    const std::string name = dot == std::string::npos ? labels : labels.substr(dot + 1);
    auto preview = route_ports.find(name);
    if (preview == route_ports.end()) return 0;
    std::string service;
    if (dot != std::string::npos) service = labels.substr(0, dot);
    else if (auto main = main_service.find(name); main != main_service.end()) service = main->second;
    auto port = preview->second.find(service);
    return port == preview->second.end() ? 0 : port->second;
}

std::optional<int> PreviewFleet::router_port() const {
    std::lock_guard lock(state_->mutex);
    return state_->router_port;
}

void PreviewFleet::State::say(const std::string& text, bool error) {
    if (!on_event) return;
    RuntimeEvent event{error ? RuntimeEventKind::failure : RuntimeEventKind::state, "", text};
    event.time = std::chrono::system_clock::now();
    on_event(event);
}

void PreviewFleet::State::audit_change(ChangeEvent event, const PreviewStatus& preview, const std::string& actor,
                                       ChangeOutcome outcome, const std::string& message,
                                       const std::string& previous) {
    AuditEntry entry;
    entry.event = event;
    entry.actor = actor;
    entry.commit = preview.commit;
    entry.subject = preview.subject;
    entry.previous_commit = previous;
    entry.outcome = outcome;
    entry.message = fmt::format("preview {} (branch {}): {}", preview.name, preview.branch, message);
    if (auto appended = audit->append(std::move(entry)); !appended)
        say("previews: cannot append to the audit log: " + appended.error().to_string(), true);
}

}  // namespace tandem

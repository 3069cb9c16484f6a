// One round of the fleet: fetch, then make the running previews match the branches: tear down
// the previews of deleted branches, stop idle ones, start new ones (the oldest idle making room
// under the limit), deploy the ones whose branch moved, and publish what each one is.
#include "preview/preview_state.hpp"

#include "support/glob.hpp"
#include "support/read_only_tree.hpp"
#include "support/sha256.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace tandem {

namespace {

using Clock = std::chrono::system_clock;

bool matches(const std::vector<std::string>& patterns, const std::string& branch) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& pattern) { return glob_match(pattern, branch); });
}

std::string ago(Duration d) { return format_duration(d); }

}  // namespace

PreviewSettings PreviewFleet::State::settings() const {
    const std::optional<PreviewSpec> file = options.file_settings ? options.file_settings() : std::nullopt;
    PreviewSettings s;
    s.branches = !options.branches.empty() ? options.branches : file ? file->branches : std::vector<std::string>{};
    s.policy = options.policy ? *options.policy : file && file->policy ? *file->policy : options.default_policy;
    s.idle = options.idle ? *options.idle : file ? file->idle : Duration(0);
    s.max = options.max ? *options.max : file && file->max > 0 ? file->max : options.default_max;
    s.port = options.port ? options.port : file ? file->port : std::nullopt;
    if (file) s.domain = file->domain;
    if (file) s.service = file->service;
    return s;
}

namespace {

// The branches that get a preview now, by preview name (two branches with one name: the later
// one's name gets a digest of its branch).
Result<WantedBranches> wanted_branches(GitMirror& mirror, const PreviewOptions& options,
                                       const PreviewSettings& settings) {
    WantedBranches wanted;
    if (settings.branches.empty()) return wanted;
    if (auto fetched = mirror.fetch(options.fetch); !fetched) return fetched.error();
    auto branches = mirror.branches();
    if (!branches) return branches.error();
    for (auto& [branch, commit] : *branches) {
        if (branch == options.main_ref || !matches(settings.branches, branch)) continue;
        std::string name = preview_name(branch);
        if (wanted.count(name)) name = preview_name(name.substr(0, 32) + "-" + sha256_hex(branch).substr(0, 6));
        wanted.emplace(name, std::make_pair(branch, commit));
    }
    return wanted;
}

}  // namespace

Status PreviewFleet::State::round(const std::string& actor) {
    const PreviewSettings settings = this->settings();
    {
        std::lock_guard lock(mutex);
        domain = settings.domain;
    }
    set_router(settings);
    auto wanted = wanted_branches(mirror, options, settings);
    if (!wanted) return wanted.error();
    std::map<std::string, PreviewStatus> work;
    {
        std::lock_guard lock(mutex);
        work = previews;
    }
    // The first round that read the branches: what a stopped shipper left is dealt with now.
    const bool starting_up = !started_up && !settings.branches.empty();
    if (starting_up) forget_orphans(*wanted, actor);
    const auto now = Clock::now();
    // Branches gone: torn down with their state; previews turned off: stopped.
    for (auto& [name, preview] : work) {
        if (wanted->count(name) && (*wanted)[name].first == preview.branch) continue;
        if (settings.branches.empty()) {
            if (running.count(name)) stop_preview(preview, ChangeEvent::preview_stop, "previews are turned off", actor);
            continue;
        }
        stop_preview(preview, ChangeEvent::preview_teardown, "its branch was deleted", actor);
    }
    std::vector<std::string> to_start, to_update;
    note_branches(work, *wanted, to_start, to_update);
    for (auto& [name, preview] : work)
        if (running.count(name) && settings.idle.count() > 0 && now - preview.pushed >= settings.idle)
            stop_preview(preview, ChangeEvent::preview_stop, "idle: no push for " + ago(settings.idle), actor);
    // A branch idle already (at the fleet's start) is not started only to be stopped.
    std::erase_if(to_start, [&](const std::string& name) {
        PreviewStatus& preview = work[name];
        if (settings.idle.count() == 0 || now - preview.pushed < settings.idle) return false;
        preview.why = "idle: no push for " + ago(settings.idle);
        publish(name, preview);
        return true;
    });
    // Newest push first: under the limit, the oldest is the one left out.
    std::sort(to_start.begin(), to_start.end(),
              [&](const std::string& a, const std::string& b) { return work[a].pushed > work[b].pushed; });
    for (const auto& name : to_start) {
        PreviewStatus& preview = work[name];
        if (!make_room(work, preview, settings, actor)) continue;
        (void)start_preview(preview, settings, actor);
    }
    for (const auto& name : to_update)
        if (running.count(name)) update_preview(work[name], actor);
    if (starting_up) {  // what a killed shipper left of the previews that stay stopped
        for (auto& [name, preview] : work)
            if (!running.count(name)) (void)sweep_leftovers(preview);  // it says what failed
        started_up = true;
    }
    for (auto& [name, preview] : work)
        if (running.count(name)) refresh(preview, settings);
    return Ok{};
}

// New branches become previews to start; a branch that moved is deployed again (running) or
// started again (stopped).
void PreviewFleet::State::note_branches(std::map<std::string, PreviewStatus>& work, const WantedBranches& wanted,
                                        std::vector<std::string>& to_start, std::vector<std::string>& to_update) {
    const auto now = Clock::now();
    for (const auto& [name, found] : wanted) {
        const auto& [branch, commit] = found;
        auto known = work.find(name);
        if (known == work.end()) {
            PreviewStatus fresh;
            fresh.name = name;
            fresh.branch = branch;
            fresh.state = "stopped";
            fresh.created = now;
            // At the fleet's start, branches are as old as their commits; later, a new one was just pushed.
            fresh.pushed = !started_up ? std::min(commit.time, now) : now;
            fresh.state_dir = options.state_dir / name;
            known = work.emplace(name, std::move(fresh)).first;
            to_start.push_back(name);
        } else if (known->second.commit != commit.id) {
            known->second.pushed = now;
            (running.count(name) ? to_update : to_start).push_back(name);
        }
        known->second.commit = commit.id;
        known->second.subject = commit.subject;
        publish(name, known->second);
    }
}

// At the fleet's start: a preview directory whose branch went while shipper was stopped is torn
// down (what a killed shipper left of it stopped first); the others' leftovers are swept by the
// engines that start on them, or now, for those the limit or idleness keeps stopped.
void PreviewFleet::State::forget_orphans(const WantedBranches& wanted, const std::string& actor) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(options.state_dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_directory() || name == "mirror.git") continue;
        PreviewStatus found;
        found.name = name;
        found.state_dir = entry.path();
        found.branch = "(unknown)";
        std::ifstream in(entry.path() / "preview.json");
        const auto noted = nlohmann::json::parse(in, nullptr, false);
        if (noted.is_object()) found.branch = noted.value("branch", found.branch);
        if (wanted.count(name)) continue;
        stop_preview(found, ChangeEvent::preview_teardown, "its branch was deleted while shipper was stopped", actor);
    }
}

// Under the limit, the running preview pushed longest ago stops for a newer one; a preview no
// newer than every running one waits, stopped (at the fleet's start, one is not started only to
// be stopped for another of the same age).
bool PreviewFleet::State::make_room(std::map<std::string, PreviewStatus>& work, PreviewStatus& preview,
                                    const PreviewSettings& settings, const std::string& actor) {
    while (static_cast<int>(running.size()) >= settings.max) {
        std::string oldest;
        for (const auto& [name, entry] : running)
            if (oldest.empty() || work[name].pushed < work[oldest].pushed) oldest = name;
        if (work[oldest].pushed >= preview.pushed) {  // no older one to stop for it
            preview.state = "stopped";
            preview.why = fmt::format("waiting: {} previews run at once (the limit), each pushed more recently",
                                      settings.max);
            publish(preview.name, preview);
            return false;
        }
        stop_preview(work[oldest], ChangeEvent::preview_stop,
                     fmt::format("the oldest idle of {} running previews (the limit), stopped for {}", settings.max,
                                 preview.branch),
                     actor);
    }
    return true;
}

// Stops the preview's services; a teardown also removes its state directory and forgets it.
void PreviewFleet::State::stop_preview(PreviewStatus& preview, ChangeEvent event, const std::string& why,
                                       const std::string& actor) {
    RunningPreview stopped;
    {
        std::lock_guard lock(mutex);
        if (auto found = running.find(preview.name); found != running.end()) {
            stopped = std::move(found->second);
            running.erase(found);
        }
        route_ports.erase(preview.name);
    }
    stopped.control.reset();
    const bool teardown = event == ChangeEvent::preview_teardown;
    Status discarded = Ok{};  // a teardown's named volumes, which live outside its directory
    if (stopped.engine) {
        stopped.engine->stop_following();
        stopped.engine->executor().stop_all();
        if (teardown) discarded = stopped.engine->executor().discard_data();
        stopped.engine.reset();
    } else if (teardown) {
        discarded = sweep_leftovers(preview, true);  // a killed shipper's replicas go before their directory
    }
    say(fmt::format("preview {} ({}) {}: {}", preview.name, preview.branch,
                    teardown ? "torn down" : "stopped", why));
    std::string message = why;
    if (!discarded) {
        message += "; its volumes stay: " + discarded.error().to_string();
        say(fmt::format("preview {}: its volumes stay: {}", preview.name, discarded.error().to_string()), true);
    }
    if (teardown) {
        ports.erase(preview.name);
        if (auto removed = remove_read_only_tree(preview.state_dir); !removed)
            message += "; its state directory stays: " + removed.error().to_string();
        audit_change(event, preview, actor, ChangeOutcome::succeeded, message, preview.deployed);
        std::lock_guard lock(mutex);
        previews.erase(preview.name);
        return;
    }
    preview.state = "stopped";
    preview.why = why;
    publish(preview.name, preview);
    audit_change(event, preview, actor, ChangeOutcome::succeeded, message, preview.deployed);
}

}  // namespace tandem

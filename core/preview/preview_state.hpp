// The fleet's state, shared by its files: the previews by name, the mirror, the audit log, the
// router, and the thread that runs rounds.
#pragma once

#include "preview/host_router.hpp"
#include "preview/preview_ports.hpp"

#include <tandem/previews.hpp>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace tandem {

// What one round goes by: the flags over the main branch's `previews:`.
struct PreviewSettings {
    std::vector<std::string> branches;
    std::string policy;
    Duration idle{0};
    int max = 3;
    std::optional<int> port;
    std::string domain = "localhost";
    std::string service;  // "": the first service with a port
};

// The branches that get a preview now, by preview name: {branch, its newest commit}.
using WantedBranches = std::map<std::string, std::pair<std::string, CommitInfo>>;

struct RunningPreview {
    std::unique_ptr<Engine> engine;
    std::unique_ptr<ControlServer> control;
};

struct PreviewFleet::State {
    PreviewOptions options;
    EventHandler on_event;
    GitMirror mirror;
    std::unique_ptr<AuditLog> audit;

    mutable std::mutex mutex;  // guards the fields below
    std::map<std::string, PreviewStatus> previews;  // by name: every preview known
    std::map<std::string, std::string> routes;      // host -> "name" or "name/service" (for route())
    std::map<std::string, std::map<std::string, int>> route_ports;  // name -> service -> port
    std::map<std::string, std::string> main_service;  // name -> the service "<name>.<domain>" reaches
    std::string domain = "localhost";
    std::condition_variable wake;
    bool stopping = false;
    std::optional<std::string> push;  // a push to act on, with its actor
    std::uint64_t rounds = 0;         // rounds finished (sync() waits for one after its request)
    bool in_round = false;

    // Only the fleet's thread touches these.
    // The first round that read the branches has run: what a stopped shipper left is dealt with
    // then (not in a first round whose fetch failed, nor one with previews still turned off).
    bool started_up = false;
    std::map<std::string, RunningPreview> running;
    std::map<std::string, std::shared_ptr<detail::PreviewPorts>> ports;
    std::unique_ptr<detail::HostRouter> router;
    std::optional<int> router_port;
    std::optional<int> router_tried;  // the port last asked for (a port in use is reported once)
    std::thread thread;

    State(PreviewOptions o, EventHandler e, GitMirror m) : options(std::move(o)), on_event(std::move(e)), mirror(std::move(m)) {}

    void run();
    Status round(const std::string& actor);
    void say(const std::string& text, bool error = false);
    void tell(const std::string& preview, const RuntimeEvent& event) const;
    void audit_change(ChangeEvent event, const PreviewStatus& preview, const std::string& actor, ChangeOutcome outcome,
                      const std::string& message, const std::string& previous = {});

    // preview_round.cpp
    PreviewSettings settings() const;
    Status start_preview(PreviewStatus& preview, const PreviewSettings& settings, const std::string& actor);
    Status note_branch(const PreviewStatus& preview);
    // With `discard`, also removes what its runtime keeps outside its directory (named volumes).
    Status sweep_leftovers(const PreviewStatus& preview, bool discard = false);
    void forget_orphans(const WantedBranches& wanted, const std::string& actor);
    Status fail_start(PreviewStatus& preview, const Error& error, const std::string& actor);
    void update_preview(PreviewStatus& preview, const std::string& actor);
    void stop_preview(PreviewStatus& preview, ChangeEvent event, const std::string& why, const std::string& actor);
    void note_branches(std::map<std::string, PreviewStatus>& work, const WantedBranches& wanted,
                       std::vector<std::string>& to_start, std::vector<std::string>& to_update);
    bool make_room(std::map<std::string, PreviewStatus>& work, PreviewStatus& preview, const PreviewSettings& settings,
                   const std::string& actor);
    int route(const std::string& host) const;  // takes the lock
    std::string not_found(const std::string& host) const;
    void refresh(PreviewStatus& preview, const PreviewSettings& settings);
    void set_router(const PreviewSettings& settings);
    void publish(const std::string& name, const PreviewStatus& preview);
};

}  // namespace tandem

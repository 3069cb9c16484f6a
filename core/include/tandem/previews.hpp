// Deploy previews: every branch of the followed repository that matches a pattern gets a
// running copy of the whole project, deployed on each push and torn down when the branch goes.
// What `shipper run --previews 'feature/*'` runs beside the main branch's engine:
//
//     tandem::PreviewOptions previews;
//     previews.repository = "https://git.example.com/shop.git";
//     previews.state_dir = "/var/lib/shipper/previews";
//     previews.branches = {"feature/*"};
//     previews.default_policy = "staging";
//     auto fleet = tandem::PreviewFleet::start(std::move(previews), print_event);
//
// Each preview is an Engine of its own on a GitSource: its own state directory (releases,
// store, history, audit log, the services' state), its own ports (chosen once and kept, see
// ProjectInstance), its own project name (containers, volumes), its own control socket (so
// `shipper status --state-dir DIR` and `shipper logs` reach it) and a policy set of its own.
// The fleet fetches the remote once per round into one mirror that every preview follows.
#pragma once

#include <tandem/audit_log.hpp>
#include <tandem/control.hpp>
#include <tandem/engine.hpp>
#include <tandem/error.hpp>
#include <tandem/git_mirror.hpp>
#include <tandem/runtime.hpp>
#include <tandem/spec.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tandem {

struct PreviewOptions {
    std::string repository;           // what the main engine follows: a path or a URL
    std::string main_ref = "main";    // never previewed, whatever the patterns say
    std::string project_dir;          // where the project file lives in the repository ("" = top)
    std::filesystem::path state_dir;  // the fleet's: mirror.git, audit.jsonl, one directory per preview
    FetchOptions fetch;               // how the remote is reached (the main engine's)
    // Deploy only commits signed by these (the main engine's --allowed-signers): a branch
    // anyone may push to runs its code on this machine as soon as it is previewed.
    std::optional<std::filesystem::path> allowed_signers;
    ProjectOptions project;           // the project file and the tool's default policy
    Duration poll{2000};              // fetch this often; 0: only on pushed()
    // Settings given by the tool (flags); each wins over the same key of `previews:` in the
    // project file of the main branch's deployed commit (read every round through
    // `file_settings`). No branch pattern from either: no previews run (and those running stop).
    std::vector<std::string> branches;
    std::optional<std::string> policy;  // else `previews.policy`, else `default_policy`
    std::string default_policy;         // the tool's (shipper: its work-in-progress set)
    std::optional<Duration> idle;       // else `previews.idle` (0: never idle)
    std::optional<int> max;             // else `previews.max`, else `default_max`
    int default_max = 3;
    std::optional<int> port;            // else `previews.port`: the routing port (none: each its own ports)
    std::function<std::optional<PreviewSpec>()> file_settings;
    // Each preview's runtime; empty: the process runtime (containers through it, as devloop does).
    std::function<std::unique_ptr<Runtime>()> runtime;
    bool control_sockets = true;  // a control socket in each preview's state directory
};

// One preview, as `shipper previews` lists it.
struct PreviewStatus {
    std::string name;     // the branch made a DNS label: "feature/Login" -> "feature-login"
    std::string branch;
    // "deploying", "running", "failed" (the newest commit not deployed, or a service of it down
    // with no replica running), "stopped" (idle or limit: see `why`)
    std::string state;
    std::string why;      // why it stopped or failed, for people; "" otherwise
    std::string url;      // where its main service answers
    std::string commit, subject;  // the branch's newest commit seen
    std::string deployed;         // the commit it runs ("" before its first deploy)
    std::string policy;
    std::filesystem::path state_dir;
    std::map<std::string, int> ports;  // service -> the public port it has in this preview
    std::chrono::system_clock::time_point created;  // when it was first started
    std::chrono::system_clock::time_point pushed;   // when its branch last moved (or it was created)
};

std::string to_json(const std::vector<PreviewStatus>& previews, int indent = 2);
// The branch made a DNS label (lowercase letters, digits and '-', at most 40 characters).
std::string preview_name(const std::string& branch);

class PreviewFleet : public PreviewControl {
public:
    using EventHandler = std::function<void(const RuntimeEvent&)>;

    // Opens the mirror and the fleet's audit log and starts the fleet's thread: its first round
    // (fetch, start a preview per matching branch) begins at once. Events of a preview's
    // services come with the service named "<preview>/<service>".
    static Result<std::unique_ptr<PreviewFleet>> start(PreviewOptions options, EventHandler on_event);
    // stop(), if it was not called.
    ~PreviewFleet() override;
    // Stops the thread, then every preview's services, each within its stop_grace (their state
    // directories stay). Returns once all are stopped; a second call does nothing.
    void stop();
    // Kills every running preview's replicas now, from any thread: a stop() under way returns
    // without waiting out their grace (a second Ctrl+C).
    void kill_all();

    std::vector<PreviewStatus> list() const;
    std::string list_json() override;
    void pushed(const std::string& actor) override;
    // Runs one round now (fetch, start, update, stop, tear down) and returns when it is done.
    Status sync(const std::string& actor);
    // The running preview's engine, or null: for its control (reset, logs) and its release loop.
    Engine* engine(const std::string& name);
    std::filesystem::path audit_path() const;
    // Where `host` (a Host header's name, lowercased) goes: "<preview>.<domain>" to the
    // preview's main service, "<service>.<preview>.<domain>" to that service; 0: nowhere.
    int route(const std::string& host) const;
    std::optional<int> router_port() const;  // the routing port, once listening

    struct State;

private:
    explicit PreviewFleet(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace tandem

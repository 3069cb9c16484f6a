// The engine's control socket: a Unix socket in the state directory through which a second
// terminal's commands reach the running engine (every operation of tandem/operations.hpp).
// The protocol is one JSON object per line: a request from the client, then reply lines.
#pragma once

#include <tandem/error.hpp>
#include <tandem/operations.hpp>
#include <tandem/runtime.hpp>

#include <filesystem>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

struct ControlRequest {
    std::string command;  // an operation's name (engine_operations()): "status", "logs", "trigger"...
    std::string service;  // for logs, reset, trigger, restart
    std::string revision; // for rollback ("" = the release before the deployed one) and diff
    std::size_t tail = kDefaultTail;  // logs: lines; audit: records
    bool follow = false;  // logs: keep streaming new lines
    std::string actor;    // who asks: set by the server from the peer's credentials ("user root"), never by the client
};

// An engine's deploy previews (tandem/previews.hpp's PreviewFleet), as its transports see them.
class PreviewControl {
public:
    virtual ~PreviewControl() = default;
    // Every preview known (running or stopped) as a JSON array (PreviewStatus fields).
    virtual std::string list_json() = 0;
    // A push happened (the webhook): fetch now and deploy the previews whose branch moved.
    // Returns at once; the work is done on the previews' own thread.
    virtual void pushed(const std::string& actor) = 0;
};

// What the engine answers with. Called on the server's threads: implementations synchronise.
class ControlHandler {
public:
    virtual ~ControlHandler() = default;
    virtual std::vector<ServiceStatus> status() = 0;
    virtual std::string policy_name() = 0;
    // What the engine follows: the operations a source does not have (engine_operations()'s
    // git_only rows under a disk engine) are refused, naming the operation and the source.
    virtual SourceKind source() { return SourceKind::disk; }
    virtual std::vector<std::string> logs(const std::string& service, std::size_t count) = 0;
    // Calls `sink` with each new formatted log line of `service` until unfollow(id).
    virtual int follow_logs(const std::string& service, std::function<void(const std::string&)> sink) = 0;
    virtual void unfollow(int id) = 0;
    virtual Status down() = 0;                              // asks the engine to stop everything and exit
    // Block until done or refused; `actor` is who asked, for the audit record.
    virtual Status reset(const std::string& service, const std::string& actor) = 0;
    virtual Status trigger(const std::string& service, const std::string& actor) = 0;

    // The release commands of an engine that follows a git repository (shipper run, devloop
    // run); their replies are JSON documents. An engine that follows files on disk answers with
    // unsupported_operation() (the transports refuse them before asking, from source()).
    virtual Result<std::string> release_status();                       // ReleaseStatus
    virtual Result<std::string> sync(const std::string& actor);         // ReleaseOutcome, once done
    virtual Result<std::string> rollback(const std::string& revision, const std::string& actor);  // ReleaseOutcome
    virtual Result<std::string> diff(const std::string& revision);      // the Plan a deploy would carry out
    // The last `count` audit records as a JSON array (oldest first); an engine without an
    // audit log answers with an error saying so.
    virtual Result<std::string> audit_trail(std::size_t count);

    // Restarts a service's replicas without a build where the engine can (shipper: from its
    // artifact); by default the same as trigger().
    virtual Status restart(const std::string& service, const std::string& actor) { return trigger(service, actor); }

    // Why the engine would refuse an action now, by action name ("trigger", "restart", "reset",
    // "sync", "rollback"); an action not listed is allowed. For display (the web page hides or
    // disables its buttons); the action itself still goes through every check.
    virtual std::map<std::string, std::string> refused_actions() = 0;
    // The same for one service in particular, by service then action: "reset" for a service
    // whose spec has neither a reset command nor state: directories. None by default.
    using ServiceRefusals = std::map<std::string, std::map<std::string, std::string>>;
    virtual ServiceRefusals refused_service_actions() { return {}; }

    // The engine's deploy previews, when it runs any (shipper run --previews); null otherwise.
    virtual PreviewControl* previews() { return nullptr; }

    struct Counters {
        std::uint64_t reconciles = 0;     // plans carried out (passes, deploys)
        std::uint64_t audit_records = 0;  // records appended since the engine started
    };
    virtual Counters counters() = 0;
};

class ControlServer {
public:
    // Listens on `socket_path` (a stale socket file left by a dead engine is replaced; a live
    // engine already listening there is an error that says so).
    static Result<std::unique_ptr<ControlServer>> start(const std::filesystem::path& socket_path,
                                                        ControlHandler& handler);
    ~ControlServer();  // stops listening, ends every client, removes the socket file

    struct State;
    explicit ControlServer(std::unique_ptr<State> state);

private:
    std::unique_ptr<State> state_;
};

// The client side, for the front-ends. Errors say when no engine is running there.
class ControlClient {
public:
    static Result<ControlClient> connect(const std::filesystem::path& socket_path);
    ControlClient(ControlClient&&) noexcept;
    ControlClient& operator=(ControlClient&&) noexcept;
    ~ControlClient();

    // Sends the request and calls `on_line` with every reply line (JSON) until the engine ends
    // the reply. A reply line {"error": {...}} becomes the returned Error.
    Status call(const ControlRequest& request, const std::function<void(const std::string& line)>& on_line);

private:
    explicit ControlClient(int fd);
    int fd_ = -1;
};

// A service status as JSON (the reply of "status"), and back.
std::string to_json(const std::vector<ServiceStatus>& services, const std::string& policy);

struct StatusReply {
    std::string policy;
    std::vector<ServiceStatus> services;
};
Result<StatusReply> status_from_json(std::string_view text);

}  // namespace tandem

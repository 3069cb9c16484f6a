// The engine's operations, each declared once: its name, arguments, the role it needs, the
// source it needs and its handler. The control socket's dispatch, the HTTP API's routes and
// the CLI's commands that talk to a running engine all come from this table, so every
// operation is on every transport; adding one is adding a row (docs/architecture.md).
#pragma once

#include <tandem/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

class ControlHandler;
struct ControlRequest;

// Where an engine reads the project from: files on disk (`devloop up`) or a git ref it follows
// (`shipper run`, `devloop run --repo R --ref B`).
enum class SourceKind { disk, git };
const char* to_string(SourceKind kind);  // "disk", "git"

// An argument of an operation: a field of ControlRequest, a field of the socket's request
// line, a query parameter (GET) or a JSON body field (POST) of the HTTP API, and an operand or
// option of the CLI. `service` is the HTTP path's segment.
struct OperationArgument {
    enum class Type { text, count, flag };
    std::string_view name;  // "service", "revision", "tail", "follow"
    Type type = Type::text;
    bool required = false;
};

inline constexpr std::size_t kDefaultTail = 100;      // lines (logs) or records (audit)
inline constexpr std::size_t kMaxTail = 100'000;

// What an operation answers: one JSON document, or lines (a service's log).
struct OperationReply {
    std::string document;
    std::vector<std::string> lines;
};

struct EngineOperation {
    // read: answers without changing anything (HTTP GET); change: acts (HTTP POST, refused
    // to another site's page).
    enum class Access { read, change };
    enum class Reply { document, lines };

    std::string_view name;     // the socket's command, the CLI's command, the HTTP path's last segment
    std::string_view summary;  // one line for --help and the docs
    std::vector<OperationArgument> arguments;
    Access access = Access::read;
    // What an API token's role must grant (docs/http-api.md): "status" covers every read but
    // logs; the socket is its owner's alone (mode 0600), who may do everything.
    std::string_view grant;
    bool git_only = false;  // only an engine that follows a git ref has it (history, rollback...)
    bool waits = false;     // the answer waits on the engine (HTTP runs it off the server's thread)
    Reply reply = Reply::document;
    Result<OperationReply> (*run)(ControlHandler& engine, const ControlRequest& request) = nullptr;

    const OperationArgument* argument(std::string_view name) const;
};

// The table, in the order the CLI's help and the docs list it.
const std::vector<EngineOperation>& engine_operations();
// The row named `name`, or null.
const EngineOperation* find_operation(std::string_view name);
// "status, logs, down, ..." for error messages.
std::string operation_names();

// Checks `request` against the row (its required arguments, the tail's range, the engine's
// source) and runs it. Every transport calls this: the checks and errors are the same on all.
Result<OperationReply> perform(ControlHandler& engine, const EngineOperation& operation, const ControlRequest& request);
// The same checks without running it (the socket subscribes a follower before running logs).
Status admissible(ControlHandler& engine, const EngineOperation& operation, const ControlRequest& request);

// "`sync` is an operation of an engine that follows a git repository; this one follows files
// on disk (...)": what an engine answers to an operation its source does not have.
Error unsupported_operation(std::string_view name, SourceKind source);

// The HTTP API's side of a row: "GET" or "POST"; the path ("/api/v1/services/*/trigger" with
// a "*" for the service, "/api/v1/sync" otherwise); for a client, the target with the service
// and the query of a GET's arguments, and the JSON body of a POST's.
const char* http_method(const EngineOperation& operation);
std::string http_pattern(const EngineOperation& operation);
std::string http_target(const EngineOperation& operation, const ControlRequest& request);
std::string http_body(const EngineOperation& operation, const ControlRequest& request);

}  // namespace tandem

// Typed errors and Result<T>: what every fallible call of the library returns.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace tandem {

// Where an error was found: file, 1-based line and column. line == 0 means "the whole file"
// (or no file at all, when file is empty too).
struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;

    bool empty() const { return file.empty() && line == 0; }
    // "tandem.yaml:5:3", "tandem.yaml" or "".
    std::string to_string() const;
};

enum class ErrorCode {
    io,                  // a file could not be read or written
    syntax,              // the YAML itself does not parse
    unknown_key,         // a mapping key the schema does not know
    missing_field,       // a required key is absent
    invalid_value,       // wrong type, out of range, unknown enum value, bad duration
    duplicate,           // the same name twice
    unknown_reference,   // depends_on, ${services.X.port}, a policy's `from` naming nothing
    dependency_cycle,    // depends_on loops back
    unknown_policy,      // a policy set name that is neither built in nor defined by the project
    unknown_service,     // a command names a service the spec does not have
    policy_denied,       // the policy forbids the requested operation
    bootstrap_required,  // bringing everything up from nothing needs an explicit flag
    source,              // the source of truth (git, disk) could not give a snapshot
    usage,               // a front-end was called with arguments it does not take
    cancelled,           // the work was cancelled (a newer change overtook it)
    timed_out,           // it took longer than its deadline and was abandoned (a fetch past --fetch-timeout)
    build_failed,        // a service's build command failed (exited non-zero or was killed)
    rollout_failed,      // applying a plan to running services failed: a replica did not become ready,
                         // a command of the plan (a reset, a migration) failed, a service did not start
    unavailable,         // a service the engine needs could not be reached (no Docker daemon on its socket)
    not_found,           // the runtime has no such object (image, container, network, volume)
    runtime,             // the runtime (the Docker daemon) refused or failed an operation
};

// A short stable name for the code ("unknown_key"), used in JSON output.
const char* to_string(ErrorCode code);

struct Error {
    ErrorCode code = ErrorCode::io;
    std::string message;
    SourceLocation location;

    // "tandem.yaml:5:3: unknown key 'replicaz' (did you mean 'replicas'?)"
    std::string to_string() const;
};

// A value or an Error. The library never throws across its public API; it returns these.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}
    Result(Error error) : state_(std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(state_); }
    const T& value() const& { assert(ok()); return std::get<0>(state_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { assert(!ok()); return std::get<1>(state_); }

private:
    std::variant<T, Error> state_;
};

// For calls that succeed with nothing to say.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(ErrorCode code, std::string message, SourceLocation where = {}) {
    return Error{code, std::move(message), std::move(where)};
}

}  // namespace tandem

// The engine's side of the control socket for shipper run: status, logs and down from the
// runtime; reset, trigger and the release commands (release status, sync, rollback, diff)
// through the running ReleaseLoop, each with its actor for the audit record.
#pragma once

#include <tandem/release_loop.hpp>
#include <tandem/runtime_control.hpp>

namespace tandem {

class ReleaseControl : public RuntimeControl {
public:
    // `on_down` is called (on a server thread) when a client asks the engine to stop.
    ReleaseControl(Executor& runtime, ReleaseLoop& loop, std::function<void()> on_down);

    std::string policy_name() override;
    SourceKind source() override { return SourceKind::git; }
    Status reset(const std::string& service, const std::string& actor) override;
    Status trigger(const std::string& service, const std::string& actor) override;
    Result<std::string> release_status() override;
    Result<std::string> sync(const std::string& actor) override;
    Result<std::string> rollback(const std::string& revision, const std::string& actor) override;
    Result<std::string> diff(const std::string& revision) override;  // {"plan": ..., "table": "..."}
    Result<std::string> audit_trail(std::size_t count) override;
    std::map<std::string, std::string> refused_actions() override;
    ServiceRefusals refused_service_actions() override;
    Counters counters() override;

private:
    ReleaseLoop& loop_;
};

}  // namespace tandem

// Health probes (tcp, http, exec) of the process runtime, run on its event loop. What their
// results mean for a replica (thresholds, the monitor's schedule) is the executor's
// (execute/health_monitor.hpp).
#pragma once

#include "support/asio.hpp"
#include "support/system_user.hpp"

#include <tandem/runtime.hpp>
#include <tandem/spec.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tandem::process {

// One check of one replica. check() never blocks the loop; `done` is called exactly once on the
// loop's thread, within the spec's timeout.
class HealthProbe {
public:
    virtual ~HealthProbe() = default;
    virtual void check(std::function<void(ProbeOutcome)> done) = 0;
};

// `port` is the replica's own (private) port; exec probes run in `cwd` with `env` added, as
// `user` when given.
std::unique_ptr<HealthProbe> make_probe(asio::io_context& io, const HealthSpec& spec, int port,
                                        const std::filesystem::path& cwd,
                                        const std::vector<std::pair<std::string, std::string>>& env,
                                        const std::optional<SystemUser>& user = std::nullopt);

// A tcp or http probe (an exec spec is probed as tcp) of `port` at `address`: a container's own
// address, where only the container's server answers (not the daemon's proxy in front of it).
std::unique_ptr<HealthProbe> make_network_probe(asio::io_context& io, const HealthSpec& spec,
                                                const asio::ip::address& address, int port);

}  // namespace tandem::process

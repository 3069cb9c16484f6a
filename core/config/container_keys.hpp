// The service keys only a container service has, as readers for the service key table:
// image, command, entrypoint, volumes, tmpfs, container_port, working_dir, labels, aliases
// and extra_hosts.
#pragma once

#include "config/service_parser.hpp"

namespace tandem::config {

using KeyReader = Status (*)(ParsedService&, const Field&, const yaml::Where&);

struct ContainerKey {
    std::string_view name;
    KeyReader read;
};

// In the order the table lists them; each may appear in an `overrides:` body.
const std::vector<ContainerKey>& container_keys();

}  // namespace tandem::config

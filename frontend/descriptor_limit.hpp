// The engine's descriptor limit: `up` and `run` raise the soft RLIMIT_NOFILE to the hard one
// at start, so that a burst of clients, log files and proxied connections finds room (the
// HTTP API then holds its connections to half of it, see docs/http-api.md).
#pragma once

namespace tandem::cli {

// Raises the soft limit to the hard one; a limit that cannot be read or set stays as it is.
void raise_descriptor_limit();

}  // namespace tandem::cli

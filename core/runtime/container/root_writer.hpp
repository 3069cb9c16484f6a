// Live sync's fast way: files written straight into a running container's filesystem through
// /proc/PID/root of its main process, where the engine and the daemon share the machine and the
// engine may look there (root, as dockerd's containers run). A save then costs a few file
// writes, not the daemon's archive upload (~250 ms: it unpacks in a helper process of its own).
//
// Every path resolves inside that root (openat2 with RESOLVE_IN_ROOT): a symbolic link of the
// image, absolute or not, never leads out of the container, so an image cannot make the engine
// write to the host. Each file is written to a temporary name beside its target and renamed over
// it, so the service never reads half a file. Where this cannot be done (no such process, no
// permission, a kernel without openat2), the caller falls back to the archive upload.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tandem::container {

// Writes each source (a file, a symbolic link or a directory of the host) at its target (an
// absolute path in the container), making missing parent directories (0755), and removes each
// of `removed` (a file, a link, or an empty directory). ErrorCode::unavailable when the root
// cannot be opened or resolved in (the caller falls back); io for a write that failed.
Status write_into_root(int pid, const std::map<std::string, std::filesystem::path>& files,
                       const std::vector<std::string>& removed);

}  // namespace tandem::container

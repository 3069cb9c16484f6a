// The build context the daemon takes at POST /build: a tar of a directory, minus what its
// .dockerignore excludes (the Dockerfile and .dockerignore themselves are always sent, as the
// docker CLI does). Entries are sorted and timeless, so the same files give the same archive.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <string>

namespace tandem::docker {

// `dockerfile` is relative to `dir` ("Dockerfile", "deploy/Dockerfile.prod").
Result<std::string> make_build_context(const std::filesystem::path& dir, const std::string& dockerfile);

}  // namespace tandem::docker

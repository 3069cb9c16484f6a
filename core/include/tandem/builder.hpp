// What turns a service's `build:` into an artifact, and the key a build is reused by. A Builder
// is handed the services to build and the source tree they read, and returns an ArtifactRef
// for each: built now, or reused from an earlier build with the same key. The key is the digest
// of everything a build's result depends on, as Bazel's action keys and Nix's derivation hashes
// are: the files it reads, its command, the directory it runs in, its environment, its
// outputs and what the sandbox lets it see. A file tree is the one kind built today
// (FileTreeBuilder, private to the release loop); an image builder is another implementation.
#pragma once

#include <tandem/artifact.hpp>
#include <tandem/error.hpp>
#include <tandem/policy.hpp>
#include <tandem/spec.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace tandem {

// The tree builds read, as a source hands it over (a commit's snapshot). A builder never
// writes to it: it builds in a copy.
struct BuildSource {
    std::filesystem::path tree;        // its top: a build may read anything below it
    std::string project_dir;           // the project's directory inside `tree` ("" = its top)
    std::filesystem::path state_root;  // where ${state.NAME} of build.command points
    std::string revision;              // the commit id, when the tree is one
    std::string label;                 // how events and actions name it: "commit 1a2b3c4d5e6f"

    std::filesystem::path project_root() const { return (tree / project_dir).lexically_normal(); }
};

// What a build's key covers, and its digest.
struct BuildKey {
    std::string digest;           // "sha256:<64 hex>" of `text`
    std::string inputs;           // "sha256:<64 hex>" of the input files (path, type, x bit, bytes)
    std::size_t input_files = 0;  // how many files that digest covers
    // true: the input files are those the spec declares (build.inputs and the paths of watch
    // rules that rebuild); false: none are declared, so every file of the tree that counts
    // (ignored files left out).
    bool declared = false;
    // One line per part, what `digest` hashes: "inputs sha256:...", "command ...", "workdir ...",
    // "output ...", "env KEY=VALUE" (in file order), "path <the engine's PATH>", "sandbox on|off",
    // "network on|off" (under the sandbox only).
    std::string text;
};

// The key of `service`'s build from `source` under `policy`. Reads (and hashes) the input files;
// a file that cannot be read is an ErrorCode::io error naming it.
Result<BuildKey> build_key(const Spec& spec, const ServiceSpec& service, const PolicySet& policy,
                           const BuildSource& source);

enum class BuildOutcome {
    built,   // the build ran and its outputs were stored
    reused,  // an artifact stored under the same key: the build did not run
};
const char* to_string(BuildOutcome outcome);

// One service's artifact, as a Builder returns it.
struct BuiltArtifact {
    std::string service;
    ArtifactRef artifact;
    BuildKey key;
    BuildOutcome outcome = BuildOutcome::built;
};

class Builder {
public:
    virtual ~Builder() = default;
    // The artifacts of `services` (each has a `build:`) of `spec`, from `source`, in that order:
    // reused where an artifact with the same key is stored, built otherwise (the builds of one
    // call run at the same time, up to the policy's updates.max_parallel). Each one reused or
    // built is reported as an event of its service. A build that fails fails the call.
    virtual Result<std::vector<BuiltArtifact>> build(const Spec& spec, const PolicySet& policy,
                                                     const BuildSource& source,
                                                     const std::vector<std::string>& services) = 0;
};

}  // namespace tandem

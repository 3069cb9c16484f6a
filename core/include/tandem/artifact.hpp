// What a replica runs, named the same way whatever runtime runs it: a file tree today (a
// release directory, with a build's outputs linked in from the artifact store), an image
// tomorrow. A Builder makes them; a Runtime starts replicas from them.
#pragma once

#include <string>

namespace tandem {

enum class ArtifactKind {
    none,   // nothing built: the service runs from its source tree as it is
    tree,   // a directory of files; `location` is its path
    image,  // a container image; `location` is its reference (name:tag or name@digest)
};
const char* to_string(ArtifactKind kind);

struct ArtifactRef {
    ArtifactKind kind = ArtifactKind::none;
    std::string digest;    // "sha256:<64 hex>" of its content; empty when nothing was built
    std::string location;  // where a runtime finds it (see ArtifactKind)

    bool empty() const { return kind == ArtifactKind::none; }
    friend bool operator==(const ArtifactRef&, const ArtifactRef&) = default;
};

}  // namespace tandem

// Names of artifact kinds, as status, events and the audit record print them.
#include <tandem/artifact.hpp>

namespace tandem {

const char* to_string(ArtifactKind kind) {
    switch (kind) {
        case ArtifactKind::none: return "none";
        case ArtifactKind::tree: return "tree";
        case ArtifactKind::image: return "image";
    }
    return "none";
}

}  // namespace tandem

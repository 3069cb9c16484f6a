// devloop: the WIP front-end. Files on disk and the `wip` policy set by default.
#include "frontend/cli.hpp"

int main(int argc, char** argv) {
    const tandem::cli::ToolDefaults tool{
        "devloop",
        "rebuild and restart what changed the moment a file is saved (tandem, WIP mode)",
        "wip",
        tandem::cli::SourceKind::disk,
    };
    return tandem::cli::run(argc, argv, tool);
}

// shipper: the Harness front-end. A git commit and the `harness` policy set by default.
#include "frontend/cli.hpp"

int main(int argc, char** argv) {
    const tandem::cli::ToolDefaults tool{
        "shipper",
        "make the running system match a git commit, one audited update at a time (tandem, Harness mode)",
        "harness",
        tandem::cli::SourceKind::git,
    };
    return tandem::cli::run(argc, argv, tool);
}

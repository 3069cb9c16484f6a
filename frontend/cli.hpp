// The command line shared by devloop and shipper: each main() is one call of run() with
// the tool's defaults; the commands themselves are calls into the library.
#pragma once

#include <tandem/operations.hpp>

#include <string>

namespace tandem::cli {

// Where a command line reads the project from (--source, --repo, or the tool's default); the
// commands a source has follow from it, not from the tool.
using tandem::SourceKind;

struct ToolDefaults {
    std::string program;         // "devloop"
    std::string summary;         // one line for --help
    std::string default_policy;  // the policy set used when neither --policy nor `policy:` names one
    SourceKind default_source = SourceKind::disk;  // without --repo or --source
};

// Parses argv, runs the command, prints its result. Returns the process exit code:
// 0 success, 1 the command failed (invalid config, refused plan), 2 bad arguments.
int run(int argc, char** argv, const ToolDefaults& tool);

}  // namespace tandem::cli

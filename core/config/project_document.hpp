// The project's file found, read and translated to tandem's schema: tandem.yaml as it is, a
// compose project (compose.hpp) or a Procfile (procfile.hpp).
#pragma once

#include "config/compose.hpp"
#include "config/spec_parser.hpp"

#include <tandem/project.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tandem::config {

struct ProjectDocument {
    std::string file;              // the project's file, as errors name it
    std::string format;            // "tandem", "compose" or "procfile"
    YAML::Node document;           // in tandem's schema
    std::string text;              // tandem.yaml's text (inline policy sets are read from it)
    std::vector<Error> warnings;
    std::vector<std::string> files;  // every file read
    std::map<std::string, InlinePolicySource> policies;  // compose: where each inline set was written
    std::function<Error(Error)> relocate;                // names the file of an error's line (compose)
};

// The first file of ProjectOptions' discovery order that `read` finds, or the one named.
Result<std::string> find_project_file(const FileReader& read, const ProjectOptions& options);

Result<ProjectDocument> read_project_document(const FileReader& read, const ProjectOptions& options);

}  // namespace tandem::config

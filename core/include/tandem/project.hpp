// A project: its spec (tandem.yaml) and the policy set it runs under, loaded together because
// the file names its policy, may define sets of its own, and overrides services per set.
#pragma once

#include <tandem/error.hpp>
#include <tandem/policy.hpp>
#include <tandem/spec.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace tandem {

// Where the active policy set's name came from.
enum class PolicyChoice { flag, file, default_ };

struct ProjectOptions {
    std::string config_path = "tandem.yaml";  // relative to the project root, as `read` sees it
    std::optional<std::string> policy;        // --policy NAME: wins over `policy:` in the file
    std::string default_policy;               // the front-end's default when neither is given;
                                              // empty: one of the two must name the set
};

struct Project {
    Spec spec;             // with the active set's per-service `overrides:` applied
    PolicySet policy;      // the active set, resolved
    PolicyCatalog catalog; // every set the project can name
    PolicyChoice policy_choice = PolicyChoice::default_;
};

// Parses and validates tandem.yaml and every policy file it names, all through `read`.
// Errors name the file, line and column.
Result<Project> load_project(const FileReader& read, const ProjectOptions& options);

// The same, reading from disk below `root`.
Result<Project> load_project(const std::filesystem::path& root, const ProjectOptions& options);

// A FileReader for files below `root` on disk. Paths that leave `root` are refused.
FileReader disk_reader(const std::filesystem::path& root);

}  // namespace tandem

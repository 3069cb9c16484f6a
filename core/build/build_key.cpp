// The key of a build: the digest of its input files, command, workdir, outputs, environment
// and sandbox, one part per line.
#include <tandem/builder.hpp>

#include <tandem/ignore.hpp>

#include "artifact/manifest.hpp"
#include "support/glob.hpp"
#include "support/sha256.hpp"

#include <algorithm>
#include <cstdlib>

namespace tandem {

namespace fs = std::filesystem;

namespace {

// The globs of the files the build reads, as the spec declares them: build.inputs, and the
// paths of the watch rules that rebuild (a change there asks for the build, so it reads them).
std::vector<std::string> declared_inputs(const ServiceSpec& service) {
    std::vector<std::string> globs = service.build->inputs;
    for (const WatchRule& rule : service.watch)
        if (rule.action == WatchAction::rebuild) globs.insert(globs.end(), rule.paths.begin(), rule.paths.end());
    return globs;
}

// The files (and symlinks) below `root` that count under its ignore rules, relative to it.
Result<std::vector<std::string>> counted_files(const fs::path& root) {
    auto rules = IgnoreRules::load(root);
    if (!rules) return rules.error();
    std::vector<std::string> files;
    for (const TreeEntry& entry : list_tree(*rules, false)) files.push_back(entry.path);
    return files;
}

// The input files of the build, relative to the source tree's top.
Result<std::vector<std::string>> input_files(const ServiceSpec& service, const BuildSource& source, bool& declared) {
    const auto globs = declared_inputs(service);
    declared = !globs.empty();
    auto listed = counted_files(declared ? source.project_root() : source.tree);
    if (!listed || !declared) return listed;
    const std::string prefix = fs::path(source.project_dir).lexically_normal().generic_string();
    const bool at_top = prefix.empty() || prefix == "." || prefix == "./";
    std::vector<std::string> files;
    for (const auto& path : *listed)
        if (std::any_of(globs.begin(), globs.end(), [&](const std::string& glob) { return glob_match(glob, path); }))
            files.push_back(at_top ? path : (fs::path(prefix) / path).generic_string());
    return files;
}

std::string environment_part(const Spec& spec, const ServiceSpec& expanded) {
    std::string text;
    for (const auto& [key, value] : expand_env(spec, expanded)) text += "env " + artifact::escaped(key + "=" + value) + "\n";
    const char* path = std::getenv("PATH");
    text += "path " + artifact::escaped(path ? path : "") + "\n";
    return text;
}

}  // namespace

const char* to_string(BuildOutcome outcome) {
    switch (outcome) {
        case BuildOutcome::built: return "built";
        case BuildOutcome::reused: return "reused";
    }
    return "built";
}

Result<BuildKey> build_key(const Spec& spec, const ServiceSpec& service, const PolicySet& policy,
                           const BuildSource& source) {
    if (!service.build)
        return make_error(ErrorCode::invalid_value, "'" + service.name + "' has no build", service.location);
    BuildKey key;
    auto files = input_files(service, source, key.declared);
    if (!files) return files.error();
    auto manifest = artifact::manifest_of_files(source.tree, *files);
    if (!manifest) return manifest.error();
    key.inputs = artifact::manifest_digest(*manifest);
    key.input_files = files->size();
    const ServiceSpec expanded = with_state_paths(service, source.state_root);
    const std::string workdir = (fs::path(source.project_dir) / service.workdir).lexically_normal().generic_string();
    key.text = "tandem build key 1\n";
    key.text += "inputs " + key.inputs + "\n";
    key.text += "command " + artifact::escaped(expanded.build->command) + "\n";
    key.text += "workdir " + artifact::escaped(workdir) + "\n";
    for (const auto& output : service.build->outputs) key.text += "output " + artifact::escaped(output) + "\n";
    key.text += environment_part(spec, expanded);
    key.text += std::string("sandbox ") + (policy.builds.sandbox ? "on" : "off") + "\n";
    if (policy.builds.sandbox) key.text += std::string("network ") + (service.build->network ? "on" : "off") + "\n";
    key.digest = "sha256:" + sha256_hex(key.text);
    return key;
}

}  // namespace tandem

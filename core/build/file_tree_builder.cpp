// Builds of file trees: keys looked up in the store, the missing ones built in a scratch copy.
#include "build/file_tree_builder.hpp"

#include "plan/actions.hpp"
#include "support/read_only_tree.hpp"
#include "support/writable_copy.hpp"

namespace tandem {

namespace fs = std::filesystem;

namespace {

// "sha256:1a2b3c4d5e6f" of a digest, for messages.
std::string short_digest(const std::string& digest) { return digest.substr(0, 19); }

std::string describe(const BuiltArtifact& built) {
    const BuildKey& key = built.key;
    const std::string files = std::to_string(key.input_files) + (key.input_files == 1 ? " file" : " files");
    return "artifact " + short_digest(built.artifact.digest) + " of key " + short_digest(key.digest) + " (inputs " +
           short_digest(key.inputs) + ": " + files + (key.declared ? " as declared" : " of the whole tree") +
           "; command, workdir, outputs, env, sandbox)";
}

ArtifactRef tree_ref(const ArtifactStore& store, const std::string& digest) {
    return ArtifactRef{ArtifactKind::tree, digest, store.path_of(digest).string()};
}

}  // namespace

FileTreeBuilder::FileTreeBuilder(Executor& runtime, ArtifactStore& store, fs::path scratch_root,
                                 EventHandler on_event)
    : runtime_(runtime), store_(store), scratch_root_(std::move(scratch_root)), on_event_(std::move(on_event)) {}

Result<std::vector<BuiltArtifact>> FileTreeBuilder::build(const Spec& spec, const PolicySet& policy,
                                                          const BuildSource& source,
                                                          const std::vector<std::string>& services) {
    std::vector<BuiltArtifact> results;
    for (const auto& name : services) {
        const ServiceSpec* service = spec.find(name);
        if (!service) return make_error(ErrorCode::unknown_service, "'" + name + "' is not in the spec");
        auto key = build_key(spec, *service, policy, source);
        if (!key) return key.error();
        results.push_back(BuiltArtifact{name, {}, std::move(*key), BuildOutcome::built});
    }
    std::vector<BuiltArtifact*> missing;
    for (BuiltArtifact& result : results) {
        if (auto stored = store_.lookup(result.key.digest)) {
            result.artifact = tree_ref(store_, *stored);
            result.outcome = BuildOutcome::reused;
            report(result);
        } else {
            missing.push_back(&result);
        }
    }
    if (missing.empty()) return results;
    const fs::path tree = source.tree.has_filename() ? source.tree : source.tree.parent_path();
    const fs::path scratch = scratch_root_ / tree.filename();
    (void)remove_read_only_tree(scratch);  // a leftover of an interrupted build
    std::error_code ec;
    fs::create_directories(scratch_root_, ec);
    if (ec)
        return make_error(ErrorCode::io, "cannot create the build directory: " + ec.message(),
                          SourceLocation{scratch_root_.string(), 0, 0});
    Status built = copy_writable(source.tree, scratch);
    if (built) built = build_in(scratch, spec, policy, source, missing);
    (void)remove_read_only_tree(scratch);
    if (!built) return built.error();
    return results;
}

Status FileTreeBuilder::build_in(const fs::path& scratch, const Spec& spec, const PolicySet& policy,
                                 const BuildSource& source, std::vector<BuiltArtifact*>& missing) {
    if (Status ran = run_commands(scratch, spec, policy, source, missing); !ran) return ran;
    const fs::path root = scratch / source.project_dir;
    for (BuiltArtifact* result : missing) {
        auto digest = store_.put(root, spec.find(result->service)->build->outputs);
        if (!digest) return digest.error();
        (void)store_.remember(result->key.digest, *digest);
        result->artifact = tree_ref(store_, *digest);
        report(*result);
    }
    return Ok{};
}

Status FileTreeBuilder::run_commands(const fs::path& scratch, const Spec& spec, const PolicySet& policy,
                                     const BuildSource& source, const std::vector<BuiltArtifact*>& missing) {
    Wave builds;
    for (const BuiltArtifact* result : missing)
        builds.steps.push_back(Step{result->service, {build_action(*spec.find(result->service), policy, source.label, {})}});
    Plan plan;
    plan.policy = policy.name;
    plan.revision = source.revision;
    plan.max_parallel = policy.updates.max_parallel;
    plan.waves.push_back(std::move(builds));
    ApplyOptions where;
    where.root = scratch / source.project_dir;
    where.state_root = source.state_root;
    where.build_root = scratch;  // the whole copy: a project in a subdirectory may build from its siblings
    return runtime_.apply(spec, policy, plan, where);
}

void FileTreeBuilder::report(const BuiltArtifact& built) const {
    if (!on_event_) return;
    on_event_(RuntimeEvent{RuntimeEventKind::state, built.service,
                           std::string(built.outcome == BuildOutcome::reused ? "reused " : "built ") + describe(built), 0,
                           false, std::chrono::system_clock::now()});
}

}  // namespace tandem

// The files a service without a build runs from: the committed files of its workdir, as
// materialized in the release directory, named by a digest for the audit record and checked
// again before every start. Files the service writes itself are not among them.
#pragma once

#include <tandem/artifact_store.hpp>
#include <tandem/error.hpp>
#include <tandem/plan.hpp>
#include <tandem/spec.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace tandem::release {

// The digest ("sha256:...", as ArtifactStore's) of the files of `service`'s workdir in
// `snapshot` (the commit's read-only tree), hashed where the service runs them: in
// `release_root`. A workdir with no committed file is digested by the program it runs (run's
// first word, looked up in PATH), so the record never holds the digest of nothing; "" when
// there is neither.
Result<std::string> source_digest(const std::filesystem::path& snapshot, const std::filesystem::path& release_root,
                                  const ServiceSpec& service);

// Hashes those files again; a committed file changed or removed since the release was made is
// an ErrorCode::io error naming the service and the release directory.
Status verify_sources(const std::filesystem::path& snapshot, const std::filesystem::path& release_root,
                      const ServiceSpec& service, const std::string& digest);

// Gives each start and replace in `plan` of a service without a build that has no artifact in
// `digests` the digest of its files (source_digest), and adds it to `digests` (service ->
// digest), so that the audit record, the history and the runtime's status name it. A built
// service absent from `digests` (its policy stores no artifact) gets none.
Status attach_source_digests(Plan& plan, const Spec& spec, const std::filesystem::path& snapshot,
                             const std::filesystem::path& release_root, std::map<std::string, std::string>& digests);

// The check before every replica start (ApplyOptions::verify_artifact): a built service's
// stored artifact is hashed again, another service's committed files (verify_sources).
std::function<Status(const std::string& service, const std::string& digest)> start_check(
    const ArtifactStore& store, const Spec& spec, const std::filesystem::path& snapshot,
    const std::filesystem::path& release_root);

}  // namespace tandem::release

// Audit checkpoints committed to, and read back from, a ref of a git repository (libgit2).
#include "audit/checkpoint_repository.hpp"

#include "audit/checkpoint_signature.hpp"
#include "source/libgit2.hpp"

#include <tandem/audit_checkpoint.hpp>

#include <fmt/format.h>

#include <chrono>

namespace tandem {

using namespace detail;

namespace {

using Signature = Owned<git_signature, git_signature_free>;
using TreeBuilder = Owned<git_treebuilder, git_treebuilder_free>;
using Walk = Owned<git_revwalk, git_revwalk_free>;

Error git_failure(const std::string& what, const std::filesystem::path& repository) {
    return make_error(ErrorCode::io, fmt::format("cannot {} in the checkpoint repository {}: {}", what,
                                                 repository.string(), last_git_error()));
}

// The content of `name` in `commit`'s tree.
Result<std::string> file_of(git_repository* repo, git_commit* commit, const char* name) {
    Tree tree;
    TreeEntry entry;
    Blob blob;
    if (git_commit_tree(&tree.ptr, commit) != 0 || git_tree_entry_bypath(&entry.ptr, tree.ptr, name) != 0 ||
        git_blob_lookup(&blob.ptr, repo, git_tree_entry_id(entry.ptr)) != 0)
        return make_error(ErrorCode::syntax, fmt::format("commit {} has no file '{}' (not an audit checkpoint)",
                                                         hex_id(git_commit_id(commit)).substr(0, 12), name));
    return std::string(static_cast<const char*>(git_blob_rawcontent(blob.ptr)), static_cast<std::size_t>(git_blob_rawsize(blob.ptr)));
}

Result<std::uint64_t> newest_seq(git_repository* repo, const std::string& ref) {
    git_oid tip;
    if (git_reference_name_to_id(&tip, repo, ref.c_str()) != 0) return std::uint64_t{0};
    Commit commit;
    if (git_commit_lookup(&commit.ptr, repo, &tip) != 0) return std::uint64_t{0};
    auto document = file_of(repo, commit.ptr, "checkpoint");
    if (!document) return document.error();
    auto checkpoint = AuditCheckpoint::parse(*document);
    if (!checkpoint) return checkpoint.error();
    return checkpoint->seq;
}

}  // namespace

struct AuditCheckpointWriter::Repository {
    Libgit2 library;
    detail::Repository repo;
};

Result<std::unique_ptr<AuditCheckpointWriter>> AuditCheckpointWriter::open(const AuditCheckpointSigning& signing) {
    if (signing.key.empty()) return make_error(ErrorCode::usage, "no key to sign audit checkpoints with");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(signing.key, ec))
        return make_error(ErrorCode::io,
                          fmt::format("the audit checkpoint key '{}' does not exist", signing.key.string()));
    auto repository = std::make_unique<Repository>();
    if (git_repository_open(&repository->repo.ptr, signing.repository.c_str()) != 0 &&
        git_repository_init(&repository->repo.ptr, signing.repository.c_str(), 1) != 0)
        return git_failure("open or create the repository", signing.repository);
    auto last = newest_seq(repository->repo.ptr, signing.ref);
    if (!last)
        return make_error(ErrorCode::io, fmt::format("the newest checkpoint on {} of {} is unreadable: {}", signing.ref,
                                                     signing.repository.string(), last.error().message));
    return std::unique_ptr<AuditCheckpointWriter>(new AuditCheckpointWriter(signing, std::move(repository), *last));
}

AuditCheckpointWriter::AuditCheckpointWriter(AuditCheckpointSigning signing, std::unique_ptr<Repository> repository,
                                             std::uint64_t last)
    : signing_(std::move(signing)), repository_(std::move(repository)), last_seq_(last) {}

AuditCheckpointWriter::~AuditCheckpointWriter() = default;

Status AuditCheckpointWriter::write(const AuditCheckpoint& checkpoint) {
    const std::string document = checkpoint.document();
    auto signature = audit::sign_checkpoint(signing_.key, document);
    if (!signature) return signature.error();
    git_repository* repo = repository_->repo.ptr;
    git_oid document_id, signature_id, tree_id, commit_id;
    TreeBuilder builder;
    Tree tree;
    Signature who;
    if (git_blob_create_from_buffer(&document_id, repo, document.data(), document.size()) != 0 ||
        git_blob_create_from_buffer(&signature_id, repo, signature->data(), signature->size()) != 0 ||
        git_treebuilder_new(&builder.ptr, repo, nullptr) != 0 ||
        git_treebuilder_insert(nullptr, builder.ptr, "checkpoint", &document_id, GIT_FILEMODE_BLOB) != 0 ||
        git_treebuilder_insert(nullptr, builder.ptr, "checkpoint.sig", &signature_id, GIT_FILEMODE_BLOB) != 0 ||
        git_treebuilder_write(&tree_id, builder.ptr) != 0 || git_tree_lookup(&tree.ptr, repo, &tree_id) != 0)
        return git_failure("store a checkpoint", signing_.repository);
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(checkpoint.time.time_since_epoch()).count();
    if (git_signature_new(&who.ptr, "tandem", "tandem@localhost", seconds, 0) != 0)
        return git_failure("make a commit signature", signing_.repository);
    Commit parent;
    git_oid tip;
    if (git_reference_name_to_id(&tip, repo, signing_.ref.c_str()) == 0 && git_commit_lookup(&parent.ptr, repo, &tip) != 0)
        return git_failure("read " + signing_.ref, signing_.repository);
    const git_commit* parents[] = {parent.ptr};
    const std::string message = fmt::format("audit checkpoint: seq {}\n", checkpoint.seq);
    if (git_commit_create(&commit_id, repo, signing_.ref.c_str(), who.ptr, who.ptr, nullptr, message.c_str(), tree.ptr,
                          parent.ptr ? 1 : 0, parents) != 0)
        return git_failure("commit a checkpoint to " + signing_.ref, signing_.repository);
    last_seq_ = checkpoint.seq;
    return Ok{};
}

namespace audit {

Result<std::vector<StoredCheckpoint>> read_checkpoints(const std::filesystem::path& repository, const std::string& ref) {
    Libgit2 library;
    detail::Repository repo;
    if (git_repository_open(&repo.ptr, repository.c_str()) != 0)
        return make_error(ErrorCode::io, fmt::format("cannot open the checkpoint repository {}: {}",
                                                     repository.string(), last_git_error()));
    git_oid tip;
    if (git_reference_name_to_id(&tip, repo.ptr, ref.c_str()) != 0)
        return make_error(
            ErrorCode::io,
            fmt::format("the checkpoint repository {} has no {} (no checkpoint was written or mirrored there)",
                        repository.string(), ref));
    Walk walk;
    if (git_revwalk_new(&walk.ptr, repo.ptr) != 0 || git_revwalk_push(walk.ptr, &tip) != 0)
        return git_failure("walk " + ref, repository);
    git_revwalk_simplify_first_parent(walk.ptr);
    std::vector<StoredCheckpoint> out;
    for (git_oid id; git_revwalk_next(&id, walk.ptr) == 0;) {
        Commit commit;
        if (git_commit_lookup(&commit.ptr, repo.ptr, &id) != 0) return git_failure("read a commit of " + ref, repository);
        auto document = file_of(repo.ptr, commit.ptr, "checkpoint");
        if (!document) return document.error();
        auto signature = file_of(repo.ptr, commit.ptr, "checkpoint.sig");
        if (!signature) return signature.error();
        out.push_back({hex_id(&id), std::move(*document), std::move(*signature)});
    }
    return out;
}

}  // namespace audit
}  // namespace tandem

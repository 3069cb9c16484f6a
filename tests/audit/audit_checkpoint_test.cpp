// Signed checkpoints of the audit log's head, committed to a second git repository with a key
// made by ssh-keygen here: a log truncated (with its head) or re-chained passes verify alone,
// and fails against the checkpoints.
#include <doctest/doctest.h>

#include <tandem/audit_checkpoint.hpp>
#include <tandem/audit_log.hpp>

#include "support/audit_files.hpp"
#include "support/run_command.hpp"
#include "support/sha256.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <fstream>

using namespace tandem;
using tandem::test::lines_of;
using tandem::test::read_text;
using tandem::test::rechain;
using tandem::test::write_lines;
using tandem::test::run_command;
using tandem::test::TempDir;

namespace {

AuditEntry note(int n) {
    AuditEntry entry;
    entry.event = ChangeEvent::deploy;
    entry.actor = "poll";
    entry.outcome = ChangeOutcome::succeeded;
    entry.message = "record " + std::to_string(n);
    return entry;
}

// A log of 12 records, with checkpoints after 5 and 10 signed by a fresh ed25519 key.
struct CheckpointedLog {
    TempDir dir;
    std::filesystem::path file = dir.path() / "audit.jsonl";
    std::filesystem::path key = dir.path() / "checkpoint_key";
    std::filesystem::path signers = dir.path() / "allowed_signers";
    std::filesystem::path repo = dir.path() / "checkpoints.git";

    CheckpointedLog() {
        const auto made = run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "audit@shipper", "-f", key.string()});
        REQUIRE_MESSAGE(made.exit_code == 0, made.err);
        std::ofstream(signers) << "audit@shipper namespaces=\"tandem-audit\" " << read_text(key.string() + ".pub");
        auto log = AuditLog::open(file);
        REQUIRE(log);
        auto writer = AuditCheckpointWriter::open({key, repo, kAuditCheckpointRef});
        REQUIRE_MESSAGE(writer.ok(), (writer ? "" : writer.error().to_string()));
        for (int i = 1; i <= 12; ++i) {
            REQUIRE((*log)->append(note(i)));
            if (i % 5 == 0) {
                const AuditCheckpoint point{(*log)->last_seq(), (*log)->last_hash(), std::chrono::system_clock::now(), "audit.jsonl"};
                const Status written = (*writer)->write(point);
                REQUIRE_MESSAGE(written.ok(), (written ? "" : written.error().to_string()));
            }
        }
        CHECK((*writer)->last_seq() == 10);
    }

    AuditCheckpointVerification against_checkpoints() const {
        auto checked = verify_audit_checkpoints(file, repo, signers);
        REQUIRE_MESSAGE(checked.ok(), (checked ? "" : checked.error().to_string()));
        return *checked;
    }
};

}  // namespace

TEST_CASE_FIXTURE(CheckpointedLog, "checkpoints: a clean log matches every signed checkpoint, and a reopened writer continues") {
    const auto checked = against_checkpoints();
    CHECK_MESSAGE(checked.ok, checked.problem);
    CHECK(checked.checkpoints == 2);
    CHECK(checked.last_seq == 10);
    CHECK(checked.signers_checked);
    auto writer = AuditCheckpointWriter::open({key, repo, kAuditCheckpointRef});
    REQUIRE(writer);
    CHECK((*writer)->last_seq() == 10);
    const auto unchecked = verify_audit_checkpoints(file, repo, std::nullopt);
    REQUIRE(unchecked);
    CHECK(unchecked->ok);
    CHECK_FALSE(unchecked->signers_checked);
}

TEST_CASE_FIXTURE(CheckpointedLog, "checkpoints: a log truncated with its head passes verify alone, not against the checkpoints") {
    auto lines = lines_of(file);
    lines.resize(7);  // records 8..12 gone, the head rewritten to seq 7: consistent
    write_lines(file, lines);
    std::ofstream(file.string() + ".head", std::ios::trunc) << "7 " << sha256_hex(lines.back()) << "\n";
    const auto alone = AuditLog::verify(file);
    CHECK_MESSAGE(alone.ok, alone.problem);  // what the chain alone cannot see
    const auto checked = against_checkpoints();
    CHECK_FALSE(checked.ok);
    CHECK_MESSAGE(checked.problem.find("has no record with seq 10") != std::string::npos, checked.problem);
    CHECK_MESSAGE(checked.problem.find("truncated (it ends at seq 7)") != std::string::npos, checked.problem);
}

TEST_CASE_FIXTURE(CheckpointedLog, "checkpoints: a log re-chained with valid hashes passes verify alone, not against the checkpoints") {
    auto lines = lines_of(file);
    const auto at = lines[1].find("record 2");
    REQUIRE(at != std::string::npos);
    lines[1].replace(at, 8, "record X");  // record 2 rewritten, every later prev and the head recomputed
    rechain(file, lines);
    const auto alone = AuditLog::verify(file);
    CHECK_MESSAGE(alone.ok, alone.problem);
    CHECK(alone.records == 12);
    const auto checked = against_checkpoints();
    CHECK_FALSE(checked.ok);
    CHECK_MESSAGE(checked.problem.find("record 5 hashes to") != std::string::npos, checked.problem);
    CHECK_MESSAGE(checked.problem.find("re-chained) at or before seq 5") != std::string::npos, checked.problem);
}

TEST_CASE_FIXTURE(CheckpointedLog, "checkpoints: one signed by a key that is not an allowed signer, or edited, is refused") {
    const auto other = dir.path() / "other_key";
    REQUIRE(run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "intruder", "-f", other.string()}).exit_code == 0);
    auto writer = AuditCheckpointWriter::open({other, repo, kAuditCheckpointRef});
    REQUIRE(writer);
    auto log = AuditLog::open(file);
    REQUIRE(log);
    REQUIRE((*writer)->write({12, (*log)->last_hash(), std::chrono::system_clock::now(), "audit.jsonl"}));
    const auto checked = against_checkpoints();
    CHECK_FALSE(checked.ok);
    CHECK_MESSAGE(checked.problem.find("no allowed signer made its signature") != std::string::npos, checked.problem);
}

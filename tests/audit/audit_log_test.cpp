// The audit log: hash-chained records, and verify() naming the line of every kind of tampering.
#include <doctest/doctest.h>

#include <tandem/audit_log.hpp>

#include "support/audit_files.hpp"
#include "support/sha256.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace tandem;
using tandem::test::lines_of;
using tandem::test::read_text;
using tandem::test::write_lines;
using tandem::test::TempDir;

namespace {

AuditEntry deploy(const std::string& message) {
    AuditEntry entry;
    entry.event = ChangeEvent::deploy;
    entry.actor = "poll";
    entry.commit = "0123456789abcdef";
    entry.services = {{"api", "", "sha256:" + std::string(64, 'a'), "start"}};
    entry.outcome = ChangeOutcome::succeeded;
    entry.message = message;
    return entry;
}

// A log at `file` with `count` records, "record 1" ... "record N".
void write_records(const std::filesystem::path& file, int count) {
    auto log = AuditLog::open(file);
    REQUIRE(log);
    for (int i = 1; i <= count; ++i) REQUIRE((*log)->append(deploy("record " + std::to_string(i))));
}

// The message of a record's line with one character changed ("record 3" -> "record X").
std::string edited(std::string line) {
    const auto at = line.find("\"message\":\"record ");
    REQUIRE(at != std::string::npos);
    line[at + std::string("\"message\":\"record ").size()] = 'X';
    return line;
}

// The head file as append() leaves it between announcing the record after `last_line` (seq
// `seq`) and writing it: "<seq> <hash of last_line>\npending <seq+1> <hash of pending_line>".
void write_pending_head(const std::filesystem::path& file, std::uint64_t seq, const std::string& last_line,
                        const std::string& pending_line) {
    std::ofstream(file.string() + ".head", std::ios::trunc)
        << seq << " " << sha256_hex(last_line) << "\npending " << seq + 1 << " " << sha256_hex(pending_line) << "\n";
}

// A log of five records ("record 1" ... "record 5") and its lines, to tamper with.
struct FiveRecords {
    TempDir dir;
    std::filesystem::path file = dir.path() / "audit.jsonl";
    std::vector<std::string> lines;

    FiveRecords() {
        write_records(file, 5);
        lines = lines_of(file);
    }
    // Writes `lines` back as the log and verifies it.
    AuditVerification rewrite() const {
        write_lines(file, lines);
        return AuditLog::verify(file);
    }
};

}  // namespace

TEST_CASE("append writes one chained, synced record per line and verify accepts the log") {
    TempDir dir;
    const auto file = dir.path() / "audit" / "audit.jsonl";  // parents are created
    auto log = AuditLog::open(file);
    REQUIRE(log);
    std::vector<AuditRecord> records;
    for (int i = 1; i <= 5; ++i) records.push_back(*(*log)->append(deploy("record " + std::to_string(i))));
    CHECK((*log)->last_seq() == 5);

    const auto lines = lines_of(file);
    REQUIRE(lines.size() == 5);
    CHECK(records[0].seq == 1);
    CHECK(records[0].prev.empty());
    for (std::size_t i = 0; i < lines.size(); ++i) CHECK(lines[i] == records[i].line);
    for (std::size_t i = 1; i < lines.size(); ++i) CHECK(records[i].prev == sha256_hex(lines[i - 1]));
    CHECK(read_text(file.string() + ".head") == "5 " + sha256_hex(lines[4]) + "\n");

    const AuditVerification verified = AuditLog::verify(file);
    CHECK(verified.ok);
    CHECK(verified.records == 5);
    CHECK(verified.bad_line == 0);
    CHECK(verified.problem.empty());
}

TEST_CASE("a record's line starts with seq and prev, holds every field, and reads back") {
    TempDir dir;
    const auto file = dir.path() / "audit.jsonl";
    auto log = AuditLog::open(file);
    REQUIRE(log);
    AuditEntry entry = deploy("rolled out \"api\"");
    entry.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795626956123));
    entry.author = "Ada <ada@example.com>";
    entry.subject = "api: faster";
    entry.previous_commit = "fedcba9876543210";
    entry.incident = true;
    entry.build_ms = 1200;
    entry.total_ms = 3400;
    const auto record = (*log)->append(entry);
    REQUIRE(record);

    CHECK(record->line.starts_with(R"({"seq":1,"prev":"","time":"2026-11-25T17:15:56.123Z","event":"deploy",)"));
    CHECK(record->line.find("\"build_ms\":1200") != std::string::npos);
    CHECK(record->line.find("rollout_ms") == std::string::npos);  // -1: not applicable
    CHECK(to_json(*record) == record->line);
    CHECK(nlohmann::json::parse(to_json(*record))["services"][0]["change"] == "start");

    const auto records = AuditLog::read(file);
    REQUIRE(records);
    REQUIRE(records->size() == 1);
    const AuditRecord& back = records->front();
    CHECK(back.seq == 1);
    CHECK(back.entry.time == entry.time);
    CHECK(back.entry.message == "rolled out \"api\"");
    CHECK(back.entry.author == entry.author);
    CHECK(back.entry.previous_commit == entry.previous_commit);
    CHECK(back.entry.services.size() == 1);
    CHECK(back.entry.services[0].new_digest == entry.services[0].new_digest);
    CHECK(back.entry.incident);
    CHECK(back.entry.build_ms == 1200);
    CHECK(back.entry.rollout_ms == -1);
    CHECK(back.entry.total_ms == 3400);
}

TEST_CASE("append fills in the time when it is left at its default") {
    TempDir dir;
    auto log = AuditLog::open(dir.path() / "audit.jsonl");
    REQUIRE(log);
    const auto before = std::chrono::system_clock::now() - std::chrono::seconds(1);
    const auto record = (*log)->append(deploy("now"));
    REQUIRE(record);
    CHECK(record->entry.time > before);
}

TEST_CASE("reopening a log continues its sequence and its chain") {
    TempDir dir;
    const auto file = dir.path() / "audit.jsonl";
    write_records(file, 3);
    auto log = AuditLog::open(file);
    REQUIRE(log);
    CHECK((*log)->last_seq() == 3);
    const auto record = (*log)->append(deploy("record 4"));
    REQUIRE(record);
    CHECK(record->seq == 4);
    CHECK(record->prev == sha256_hex(lines_of(file)[2]));
    CHECK(AuditLog::verify(file).ok);
    CHECK(AuditLog::verify(file).records == 4);
}

TEST_CASE_FIXTURE(FiveRecords, "verify names the line of an edited record") {
    SUBCASE("in the middle: the next record's prev no longer matches") {
        lines[2] = edited(lines[2]);
        const auto verified = rewrite();
        CHECK_FALSE(verified.ok);
        CHECK(verified.bad_line == 3);
        CHECK(verified.records == 2);
        CHECK(verified.problem == "line 3 was changed after it was written (its hash does not match the next record's prev)");
    }
    SUBCASE("the last one: the head file no longer matches") {
        lines[4] = edited(lines[4]);
        const auto verified = rewrite();
        CHECK_FALSE(verified.ok);
        CHECK(verified.bad_line == 5);
        CHECK(verified.problem.find("line 5 was changed after it was written") == 0);
    }
}

TEST_CASE_FIXTURE(FiveRecords, "verify names deleted records, in the middle and at the end") {
    SUBCASE("a middle line") {
        lines.erase(lines.begin() + 2);
        const auto verified = rewrite();
        CHECK_FALSE(verified.ok);
        CHECK(verified.bad_line == 3);
        CHECK(verified.problem == "line 3: record 3 missing before this line (deleted)");
    }
    SUBCASE("two middle lines") {
        lines.erase(lines.begin() + 1, lines.begin() + 3);
        CHECK(rewrite().problem == "line 2: records 2..3 missing before this line (deleted)");
    }
    SUBCASE("the last line: the head file still says seq 5") {
        lines.pop_back();
        const auto verified = rewrite();
        CHECK_FALSE(verified.ok);
        CHECK(verified.bad_line == 5);
        CHECK(verified.records == 4);
        CHECK(verified.problem == "records after line 4 were deleted (the head says seq 5)");
    }
    SUBCASE("every line") {
        lines.clear();
        CHECK(rewrite().problem == "all records were deleted (the head says seq 5)");
    }
    SUBCASE("the last line and the head file") {
        lines.pop_back();
        std::filesystem::remove(file.string() + ".head");
        const auto verified = rewrite();
        CHECK_FALSE(verified.ok);
        CHECK(verified.problem.find("head file") != std::string::npos);
    }
}

TEST_CASE_FIXTURE(FiveRecords, "verify names swapped records as reordered") {
    std::swap(lines[1], lines[2]);
    const auto verified = rewrite();
    CHECK_FALSE(verified.ok);
    CHECK(verified.bad_line == 2);
    CHECK(verified.problem == "line 2 is out of order (reordered): seq 3 comes before seq 2 (line 3)");
}

TEST_CASE_FIXTURE(FiveRecords, "verify names a line that is not a record") {
    lines[1] = "{\"hello\":1}";
    const auto verified = rewrite();
    CHECK(verified.bad_line == 2);
    CHECK(verified.problem.find("line 2 is not an audit record") == 0);

    const auto records = AuditLog::read(file);
    REQUIRE_FALSE(records);
    CHECK(records.error().location.line == 2);
    CHECK(records.error().to_string().find(file.string() + ":2:") == 0);
}

TEST_CASE_FIXTURE(FiveRecords, "a torn last line is found by verify, and cut and recorded by open") {
    const auto size = std::filesystem::file_size(file);
    const auto last = lines[4];
    std::filesystem::resize_file(file, size - last.size() / 2);  // a crash in the middle of the write
    write_pending_head(file, 4, lines[3], last);                 // which the head had announced
    const std::size_t cut = last.size() + 1 - last.size() / 2;

    const auto torn = AuditLog::verify(file);
    CHECK_FALSE(torn.ok);
    CHECK(torn.bad_line == 5);
    CHECK(torn.problem == "line 5 is torn: a write was cut off");

    auto log = AuditLog::open(file);
    REQUIRE(log);
    CHECK((*log)->last_seq() == 5);  // four records and the repair
    const auto records = AuditLog::read(file);
    REQUIRE(records);
    REQUIRE(records->size() == 5);
    CHECK(records->back().entry.event == ChangeEvent::audit_repair);
    CHECK(records->back().entry.message.find("removed " + std::to_string(cut) + " byte(s)") == 0);
    const auto verified = AuditLog::verify(file);
    CHECK(verified.ok);
    CHECK(verified.records == 5);
}

TEST_CASE("an empty or missing log verifies with no records, but a head without its log does not") {
    TempDir dir;
    const auto file = dir.path() / "audit.jsonl";
    CHECK(AuditLog::verify(file).ok);
    CHECK(AuditLog::read(file)->empty());
    REQUIRE(AuditLog::open(file));
    CHECK(AuditLog::verify(file).ok);
    CHECK(AuditLog::verify(file).records == 0);

    write_records(file, 2);
    std::filesystem::remove(file);
    const auto verified = AuditLog::verify(file);
    CHECK_FALSE(verified.ok);
    CHECK(verified.problem.find("is missing, but its head file says seq 2") != std::string::npos);
}

TEST_CASE("a crash between the record and the head write leaves a log that verifies") {
    TempDir dir;
    const auto file = dir.path() / "audit.jsonl";
    write_records(file, 4);
    const auto lines = lines_of(file);
    write_pending_head(file, 3, lines[2], lines[3]);  // the head as it is between the two writes of record 4
    CHECK(AuditLog::verify(file).ok);
    auto log = AuditLog::open(file);  // completes the head
    REQUIRE(log);
    CHECK((*log)->last_seq() == 4);
    CHECK(read_text(file.string() + ".head") == "4 " + sha256_hex(lines[3]) + "\n");
}

TEST_CASE("a crash after the head announced a record and before it was written is put right and recorded") {
    TempDir dir;
    const auto file = dir.path() / "audit.jsonl";
    write_records(file, 3);
    const auto lines = lines_of(file);
    write_pending_head(file, 3, lines[2], "{\"seq\":4,\"prev\":\"" + sha256_hex(lines[2]) + "\",\"event\":\"deploy\"}");
    CHECK(AuditLog::verify(file).ok);
    auto log = AuditLog::open(file);
    REQUIRE(log);
    const auto records = AuditLog::read(file);
    REQUIRE(records);
    REQUIRE(records->size() == 4);
    CHECK(records->back().entry.event == ChangeEvent::audit_repair);
    CHECK_MESSAGE(records->back().entry.message.find("record 4 was being written") == 0, records->back().entry.message);
    CHECK(AuditLog::verify(file).ok);
}

TEST_CASE_FIXTURE(FiveRecords, "verify refuses one record forged right after the head, however well chained") {
    // The head says seq 5 and announces nothing: a sixth record with the right prev was
    // appended behind the engine's back, not left by a crash.
    lines.push_back("{\"seq\":6,\"prev\":\"" + sha256_hex(lines.back()) +
                    "\",\"time\":\"2026-12-01T00:00:00Z\",\"event\":\"deploy\"}");
    const auto verdict = rewrite();
    CHECK_FALSE(verdict.ok);
    CHECK(verdict.bad_line == 6);
    CHECK_MESSAGE(verdict.problem.find("did not announce it") != std::string::npos, verdict.problem);
}

TEST_CASE_FIXTURE(FiveRecords, "verify refuses a record past the head that is not the one the head announced") {
    write_pending_head(file, 4, lines[3], edited(lines[4]));  // the head announced another record 5
    const auto verdict = AuditLog::verify(file);
    CHECK_FALSE(verdict.ok);
    CHECK(verdict.bad_line == 5);
    CHECK_MESSAGE(verdict.problem.find("not the record the head announced") != std::string::npos, verdict.problem);
}

TEST_CASE_FIXTURE(FiveRecords, "verify refuses records forged after the head's seq, however well chained") {
    // The head says seq 5 and announces nothing. Two records appended by hand, each with the
    // right prev: the first is already refused (a crash leaves only a record the head announced).
    std::string prev = tandem::sha256_hex(lines.back());
    for (int seq = 6; seq <= 7; ++seq) {
        lines.push_back("{\"seq\":" + std::to_string(seq) + ",\"prev\":\"" + prev +
                        "\",\"time\":\"2026-12-01T00:00:00Z\",\"event\":\"deploy\"}");
        prev = tandem::sha256_hex(lines.back());
    }
    const auto verdict = rewrite();
    CHECK_FALSE(verdict.ok);
    CHECK(verdict.bad_line == 6);
    CHECK_MESSAGE(verdict.problem.find("after the head") != std::string::npos, verdict.problem);
}

TEST_CASE("appends from 4 threads at once keep one valid chain") {
    TempDir dir;
    const auto file = dir.path() / "audit.jsonl";
    auto log = AuditLog::open(file);
    REQUIRE(log);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&log, t] {
            for (int i = 0; i < 25; ++i) (void)(*log)->append(deploy("thread " + std::to_string(t)));
        });
    for (auto& thread : threads) thread.join();
    CHECK((*log)->last_seq() == 100);
    const auto verified = AuditLog::verify(file);
    CHECK(verified.ok);
    CHECK(verified.records == 100);
}

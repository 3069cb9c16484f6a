// Checking an audit log's chain without parsing its JSON, and reading its records back.
#include <tandem/audit_log.hpp>

#include "audit/audit_line.hpp"
#include "audit/line_reader.hpp"
#include "support/sha256.hpp"

#include <charconv>
#include <fcntl.h>
#include <unistd.h>

namespace tandem {

namespace {

struct Head {
    std::uint64_t seq = 0;
    std::string hash;
};

std::string line_name(std::size_t line) { return "line " + std::to_string(line); }

// `<log>.head`: "<seq> <64 hex>\n"; nullopt when there is none.
Result<std::optional<Head>> read_head(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::optional<Head>();
    if (fd < 0) return audit::errno_error("open", file);
    audit::LineReader reader(fd, file);
    auto line = reader.next();
    ::close(fd);
    if (!line) return line.error();
    Head head;
    const std::string text = *line ? std::string((*line)->text) : std::string();
    const auto space = text.find(' ');
    const bool parsed = space != std::string::npos && text.size() == space + 65 &&
                        std::from_chars(text.data(), text.data() + space, head.seq).ptr == text.data() + space;
    if (!parsed) return make_error(ErrorCode::io, "the head file " + file.string() + " is not \"<seq> <sha256>\"");
    head.hash = text.substr(space + 1);
    return std::optional<Head>(head);
}

// Follows the chain line by line and keeps the first problem.
class ChainCheck {
public:
    explicit ChainCheck(std::optional<Head> head) : head_(std::move(head)) {}

    // After a problem, lines are still wanted only to tell a reorder from a deletion.
    bool wants_more() const { return result_.ok || gap_expected_ != 0; }

    void feed(const audit::Line& line) {
        ++line_;
        if (!result_.ok) return look_for_missing(line.text);
        if (!line.whole) return fail(line_, line_name(line_) + " is torn: a write was cut off");
        const auto prefix = audit::parse_line_prefix(line.text);
        if (!prefix) return fail(line_, line_name(line_) + " is not an audit record (it must start with "
                                                           "{\"seq\":N,\"prev\":\"...\", and end with })");
        const std::uint64_t expected = seq_ + 1;
        if (prefix->seq > expected) return gap(expected, prefix->seq);
        if (prefix->seq < expected)
            return fail(line_, line_name(line_) + " is out of order (reordered): seq " + std::to_string(prefix->seq) +
                                   " after seq " + std::to_string(seq_));
        // A crash between a record and its head write leaves one record past the head; more than
        // one was appended behind the engine's back.
        if (head_ && prefix->seq > head_->seq + 1)
            return fail(line_, line_name(line_) + " (seq " + std::to_string(prefix->seq) + ") comes after the head's seq " +
                                   std::to_string(head_->seq) + ": records were appended without the head file");
        if (prefix->prev != hash_) {
            if (line_ == 1) return fail(1, "line 1 was changed after it was written (the first record's prev must be empty)");
            return fail(line_ - 1, line_name(line_ - 1) + " was changed after it was written (its hash does not "
                                                          "match the next record's prev)");
        }
        seq_ = prefix->seq;
        hash_ = sha256_hex(line.text);
        if (head_ && head_->seq == seq_ && head_->hash != hash_)
            fail(line_, line_name(line_) + " was changed after it was written (its hash does not match the head file)");
    }

    AuditVerification finish(const std::filesystem::path& head_file) {
        if (!result_.ok) return result_;
        result_.records = line_;
        if (!head_ && seq_ >= 2)
            fail(0, "the head file " + head_file.string() + " is missing (it holds the last seq, so that deleted "
                    "records at the end show)");
        else if (head_ && head_->seq > seq_)
            fail(line_ + 1, (line_ == 0 ? std::string("all records were deleted")
                                        : "records after " + line_name(line_) + " were deleted") +
                                " (the head says seq " + std::to_string(head_->seq) + ")");
        return result_;
    }

private:
    void fail(std::size_t bad_line, std::string problem) {
        result_.ok = false;
        result_.bad_line = bad_line;
        result_.records = bad_line > 0 ? bad_line - 1 : line_;
        result_.problem = std::move(problem);
    }

    // A seq skipped: deleted records, unless the skipped seq turns up further down.
    void gap(std::uint64_t expected, std::uint64_t seq) {
        gap_expected_ = expected;
        gap_seq_ = seq;
        const std::string range = seq - 1 == expected ? "record " + std::to_string(expected)
                                                      : "records " + std::to_string(expected) + ".." + std::to_string(seq - 1);
        fail(line_, line_name(line_) + ": " + range + " missing before this line (deleted)");
    }

    void look_for_missing(std::string_view text) {
        const auto prefix = audit::parse_line_prefix(text);
        if (!prefix || prefix->seq != gap_expected_) return;
        result_.problem = line_name(result_.bad_line) + " is out of order (reordered): seq " + std::to_string(gap_seq_) +
                          " comes before seq " + std::to_string(gap_expected_) + " (" + line_name(line_) + ")";
        gap_expected_ = 0;
    }

    std::optional<Head> head_;
    std::size_t line_ = 0;
    std::uint64_t seq_ = 0;
    std::string hash_;
    std::uint64_t gap_expected_ = 0, gap_seq_ = 0;
    AuditVerification result_;
};

Result<std::vector<AuditRecord>> read_records(audit::LineReader& reader, const std::filesystem::path& path) {
    std::vector<AuditRecord> records;
    for (std::size_t number = 1;; ++number) {
        auto line = reader.next();
        if (!line) return line.error();
        if (!*line) return records;
        if (!(*line)->whole)
            return make_error(ErrorCode::io, "torn: a write was cut off", SourceLocation{path.string(), static_cast<int>(number), 0});
        auto record = audit::parse_line((*line)->text, path, number);
        if (!record) return record.error();
        records.push_back(std::move(*record));
    }
}

AuditVerification failed(std::string problem) {
    AuditVerification result;
    result.ok = false;
    result.problem = std::move(problem);
    return result;
}

}  // namespace

AuditVerification AuditLog::verify(const std::filesystem::path& path) {
    auto head_file = path;
    head_file += ".head";
    auto head = read_head(head_file);
    if (!head) return failed(head.error().to_string());
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (!*head) return AuditVerification{};
        return failed("the log " + path.string() + " is missing, but its head file says seq " +
                      std::to_string((*head)->seq));
    }
    if (fd < 0) return failed(audit::errno_error("open", path).message);
    audit::LineReader reader(fd, path);
    ChainCheck check(*head);
    while (check.wants_more()) {
        auto line = reader.next();
        if (!line) {
            ::close(fd);
            return failed(line.error().message);
        }
        if (!*line) break;
        check.feed(**line);
    }
    ::close(fd);
    return check.finish(head_file);
}

Result<std::vector<AuditRecord>> AuditLog::read(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::vector<AuditRecord>{};
    if (fd < 0) return audit::errno_error("open", path);
    audit::LineReader reader(fd, path);
    auto records = read_records(reader, path);
    ::close(fd);
    return records;
}

}  // namespace tandem

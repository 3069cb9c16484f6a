// The audit log: appends hash-chained records, each fsynced, and repairs a torn tail on open.
#include <tandem/audit_log.hpp>

#include "audit/audit_line.hpp"
#include "audit/line_reader.hpp"
#include "support/durable_file.hpp"
#include "support/sha256.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tandem {

namespace {

constexpr std::size_t kChunk = 64 * 1024;

// Reads [offset, offset + size) of `fd`.
Result<std::string> read_at(int fd, off_t offset, std::size_t size, const std::filesystem::path& file) {
    std::string bytes(size, '\0');
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::pread(fd, bytes.data() + done, size - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return audit::errno_error("read", file);
        if (n == 0) return make_error(ErrorCode::io, "cannot read " + file.string() + ": it shrank while being read");
        done += static_cast<std::size_t>(n);
    }
    return bytes;
}

// The offset just past the last '\n' before `end` (0 when there is none), reading backwards.
Result<off_t> line_start_before(int fd, off_t end, const std::filesystem::path& file) {
    while (end > 0) {
        const off_t from = end > static_cast<off_t>(kChunk) ? end - static_cast<off_t>(kChunk) : 0;
        auto chunk = read_at(fd, from, static_cast<std::size_t>(end - from), file);
        if (!chunk) return chunk.error();
        const auto newline = chunk->rfind('\n');
        if (newline != std::string::npos) return from + static_cast<off_t>(newline) + 1;
        end = from;
    }
    return off_t{0};
}

// What open() finds at the end of the file.
struct Tail {
    std::uint64_t seq = 0;
    std::string hash;          // of the last whole line
    std::size_t torn_bytes = 0;  // cut away after the last newline
};

// Cuts a torn last line away and reads the seq and hash of the last whole line.
Result<Tail> repair_tail(int fd, const std::filesystem::path& file) {
    struct stat info {};
    if (::fstat(fd, &info) != 0) return audit::errno_error("stat", file);
    Tail tail;
    off_t end = info.st_size;
    if (end == 0) return tail;
    auto last_byte = read_at(fd, end - 1, 1, file);
    if (!last_byte) return last_byte.error();
    if (*last_byte != "\n") {
        auto cut = line_start_before(fd, end, file);
        if (!cut) return cut.error();
        if (::ftruncate(fd, *cut) != 0 || ::fsync(fd) != 0) return audit::errno_error("cut the torn last line of", file);
        tail.torn_bytes = static_cast<std::size_t>(end - *cut);
        end = *cut;
        if (end == 0) return tail;
    }
    auto start = line_start_before(fd, end - 1, file);
    if (!start) return start.error();
    auto line = read_at(fd, *start, static_cast<std::size_t>(end - 1 - *start), file);
    if (!line) return line.error();
    const auto prefix = audit::parse_line_prefix(*line);
    if (!prefix)
        return make_error(ErrorCode::io, "the last line of " + file.string() +
                                             " is not an audit record; check it with `shipper audit verify`");
    tail.seq = prefix->seq;
    tail.hash = sha256_hex(*line);
    return tail;
}

AuditEntry repair_entry(const std::filesystem::path& file, std::size_t torn_bytes) {
    AuditEntry entry;
    entry.event = "audit_repair";
    entry.actor = "audit log open";
    entry.outcome = "succeeded";
    entry.message = "removed " + std::to_string(torn_bytes) + " byte(s) of a record cut off at the end of " +
                    file.string() + " (a write was interrupted, e.g. by a crash)";
    return entry;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::filesystem::path& path) {
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return make_error(ErrorCode::io, "cannot create " + path.parent_path().string() + ": " + ec.message());
    const bool existed = std::filesystem::exists(path, ec);
    const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return audit::errno_error("open audit log", path);
    auto tail = repair_tail(fd, path);
    Status created = existed ? Status(Ok{}) : sync_directory(path.has_parent_path() ? path.parent_path() : ".");
    if (!tail || !created) {
        ::close(fd);
        return tail ? created.error() : tail.error();
    }
    std::unique_ptr<AuditLog> log(new AuditLog(path, fd, tail->seq, tail->hash));
    if (tail->torn_bytes > 0) {
        if (auto repaired = log->append(repair_entry(path, tail->torn_bytes)); !repaired) return repaired.error();
    }
    return log;
}

AuditLog::AuditLog(std::filesystem::path path, int fd, std::uint64_t seq, std::string last_hash)
    : path_(std::move(path)), fd_(fd), seq_(seq), last_hash_(std::move(last_hash)) {}

AuditLog::~AuditLog() {
    if (fd_ >= 0) ::close(fd_);
}

std::uint64_t AuditLog::last_seq() const {
    std::lock_guard lock(mutex_);
    return seq_;
}

Result<AuditRecord> AuditLog::append(AuditEntry entry) {
    if (entry.time == std::chrono::system_clock::time_point{}) entry.time = std::chrono::system_clock::now();
    std::lock_guard lock(mutex_);
    AuditRecord record{seq_ + 1, last_hash_, std::move(entry), {}};
    record.line = audit::format_line(record.seq, record.prev, record.entry);
    struct stat before {};
    if (::fstat(fd_, &before) != 0) return audit::errno_error("stat", path_);
    if (Status written = write_all(fd_, record.line + '\n'); !written) {
        // Take a partial line back out, so the next record does not follow a torn one.
        [[maybe_unused]] const int ignored = ::ftruncate(fd_, before.st_size);
        return make_error(ErrorCode::io, "cannot append audit record " + std::to_string(record.seq) + " to " +
                                             path_.string() + ": " + written.error().message);
    }
    seq_ = record.seq;
    last_hash_ = sha256_hex(record.line);
    if (::fdatasync(fd_) != 0) return audit::errno_error("fsync audit record " + std::to_string(seq_) + " of", path_);
    if (Status head = write_head(); !head) return head.error();
    return record;
}

// `<path>.head` = "<seq> <hash of the last line>": it catches trailing records deleted later.
Status AuditLog::write_head() {
    auto head = path_;
    head += ".head";
    return replace_file_durably(head, std::to_string(seq_) + " " + last_hash_ + "\n");
}

}  // namespace tandem

// Replicas' output kept within bounds: a ring of recent lines per service, size-rotated files,
// and the store that feeds both and the live subscribers.
#include "runtime/log_store.hpp"

#include <tandem/runtime.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>

namespace tandem::process {

LogRing::LogRing(std::size_t max_lines, std::size_t max_bytes) : max_lines_(max_lines), max_bytes_(max_bytes) {}

void LogRing::push(LogLine line) {
    if (max_lines_ == 0) {
        ++dropped_;
        return;
    }
    if (line.text.size() > max_bytes_) line.text.resize(max_bytes_);  // one huge line must not empty the ring
    while (!lines_.empty() && (lines_.size() >= max_lines_ || bytes_ + line.text.size() > max_bytes_)) {
        bytes_ -= lines_.front().text.size();
        lines_.pop_front();
        ++dropped_;
    }
    bytes_ += line.text.size();
    lines_.push_back(std::move(line));
}

std::vector<LogLine> LogRing::tail(std::size_t count) const {
    const std::size_t first = lines_.size() > count ? lines_.size() - count : 0;
    return {lines_.begin() + static_cast<std::ptrdiff_t>(first), lines_.end()};
}

std::string format_log_line(const LogLine& line) {
    const std::string stamp = format_utc(line.time);
    std::string text = stamp;
    text += ' ';
    text += line.service;
    text += '[' + std::to_string(line.replica) + "] ";
    text += line.stream == LogStream::out ? "out| " : "err| ";
    text += line.text;
    return text;
}

namespace {

Error file_error(const std::filesystem::path& path, const std::string& what, int error_number) {
    return make_error(ErrorCode::io, "cannot " + what + " log file " + path.string() + ": " + std::strerror(error_number));
}

std::filesystem::path numbered(const std::filesystem::path& path, int number) {
    return path.string() + "." + std::to_string(number);
}

}  // namespace

RotatingLogFile::RotatingLogFile(std::filesystem::path path, std::size_t max_bytes, int keep)
    : path_(std::move(path)), max_bytes_(max_bytes), keep_(keep) {}

RotatingLogFile::~RotatingLogFile() {
    if (file_) std::fclose(file_);
}

Status RotatingLogFile::append(const LogLine& line) {
    if (!file_) {
        std::error_code ignored;
        if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), ignored);
        file_ = std::fopen(path_.c_str(), "ae");
        if (!file_) return file_error(path_, "open", errno);
        std::fseek(file_, 0, SEEK_END);
        size_ = static_cast<std::size_t>(std::max(0L, std::ftell(file_)));
    }
    std::string text = format_log_line(line);
    text += '\n';
    // Rotate before the line that would pass the limit, so files stay within it.
    if (size_ > 0 && size_ + text.size() > max_bytes_) {
        if (auto rotated = rotate(); !rotated) return rotated;
    }
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
        return file_error(path_, "write", errno);
    }
    size_ += text.size();
    return Ok{};
}

Status RotatingLogFile::rotate() {
    std::fclose(file_);
    file_ = nullptr;
    std::error_code ignored;
    if (keep_ <= 0) {
        std::filesystem::remove(path_, ignored);
    } else {
        for (int number = keep_ - 1; number >= 1; --number) {
            if (std::filesystem::exists(numbered(path_, number))) {
                std::filesystem::rename(numbered(path_, number), numbered(path_, number + 1), ignored);
            }
        }
        std::error_code error;
        std::filesystem::rename(path_, numbered(path_, 1), error);
        if (error) return file_error(path_, "rotate", error.value());
    }
    file_ = std::fopen(path_.c_str(), "we");
    if (!file_) return file_error(path_, "open", errno);
    size_ = 0;
    return Ok{};
}

namespace {

struct ServiceLogs {
    ServiceLogs(const LogStore::Limits& limits, std::filesystem::path file_path)
        : ring(limits.ring_lines, limits.ring_bytes) {
        if (!file_path.empty()) file = std::make_unique<RotatingLogFile>(std::move(file_path), limits.file_bytes, limits.files_kept);
    }
    LogRing ring;
    std::unique_ptr<RotatingLogFile> file;  // null when the store keeps no files
};

// A service name as a file name: path separators and leading dots cannot escape the directory.
std::string file_name_for(const std::string& service) {
    std::string name = service.empty() ? "_" : service;
    for (char& c : name) {
        if (c == '/' || c == '\0') c = '_';
    }
    if (name.front() == '.') name.front() = '_';
    return name + ".log";
}

}  // namespace

struct LogStore::State {
    std::filesystem::path directory;
    Limits limits;
    mutable std::mutex mutex;
    std::map<std::string, ServiceLogs> services;
    std::map<int, std::shared_ptr<Subscriber>> subscribers;
    int next_id = 1;

    ServiceLogs& logs_of(const std::string& service) {
        auto it = services.find(service);
        if (it == services.end()) {
            auto file = directory.empty() ? std::filesystem::path() : directory / file_name_for(service);
            it = services.try_emplace(service, limits, std::move(file)).first;
        }
        return it->second;
    }
};

LogStore::LogStore(std::filesystem::path directory, Limits limits) : state_(std::make_unique<State>()) {
    state_->directory = std::move(directory);
    state_->limits = limits;
}

LogStore::~LogStore() = default;

void LogStore::append(LogLine line) {
    std::vector<std::shared_ptr<Subscriber>> subscribers;
    LogLine for_subscribers;
    {
        std::lock_guard lock(state_->mutex);
        auto& logs = state_->logs_of(line.service);
        // A file that cannot be written loses its lines; the ring and the subscribers still get them.
        if (logs.file) (void)logs.file->append(line);
        for (const auto& [id, subscriber] : state_->subscribers) subscribers.push_back(subscriber);
        if (!subscribers.empty()) for_subscribers = line;
        logs.ring.push(std::move(line));
    }
    // Outside the lock, so a subscriber may call tail() or unsubscribe().
    for (const auto& subscriber : subscribers) (*subscriber)(for_subscribers);
}

std::vector<LogLine> LogStore::tail(const std::string& service, std::size_t count) const {
    std::lock_guard lock(state_->mutex);
    const auto it = state_->services.find(service);
    if (it == state_->services.end()) return {};
    return it->second.ring.tail(count);
}

int LogStore::subscribe(Subscriber subscriber) {
    std::lock_guard lock(state_->mutex);
    const int id = state_->next_id++;
    state_->subscribers.emplace(id, std::make_shared<Subscriber>(std::move(subscriber)));
    return id;
}

void LogStore::unsubscribe(int id) {
    std::lock_guard lock(state_->mutex);
    state_->subscribers.erase(id);
}

}  // namespace tandem::process

namespace tandem {

std::string format_log_line(const RuntimeEvent& event) {
    const auto time = event.time == std::chrono::system_clock::time_point{} ? std::chrono::system_clock::now() : event.time;
    return process::format_log_line(process::LogLine{time, event.service, event.replica,
                                                     event.is_stderr ? LogStream::err : LogStream::out,
                                                     event.text});
}

}  // namespace tandem

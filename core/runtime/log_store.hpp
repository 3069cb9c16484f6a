// Where replicas' output goes: a bounded in-memory ring per service for display, and a file per
// service under the state directory, rotated by size. Neither grows without bound.
#pragma once

#include <tandem/utc_time.hpp>

#include <tandem/error.hpp>
#include <tandem/runtime.hpp>

#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <filesystem>
#include <string>
#include <vector>

namespace tandem::process {

struct LogLine {
    std::chrono::system_clock::time_point time;
    std::string service;
    int replica = 0;
    LogStream stream = LogStream::out;
    std::string text;
};

// Keeps the newest lines within both limits; the oldest go first.
class LogRing {
public:
    LogRing(std::size_t max_lines, std::size_t max_bytes);
    void push(LogLine line);
    std::vector<LogLine> tail(std::size_t count) const;  // the newest `count`, oldest first
    std::size_t size() const { return lines_.size(); }
    std::size_t bytes() const { return bytes_; }
    std::uint64_t dropped() const { return dropped_; }   // lines pushed out so far

private:
    std::size_t max_lines_, max_bytes_, bytes_ = 0;
    std::uint64_t dropped_ = 0;
    std::deque<LogLine> lines_;
};

// Appends "2026-11-25T15:04:05.123Z api[1] err| text" lines to `path`; when the file passes
// `max_bytes` it becomes path.1 (path.1 becomes path.2, ... up to `keep` old files).
class RotatingLogFile {
public:
    RotatingLogFile(std::filesystem::path path, std::size_t max_bytes, int keep);
    ~RotatingLogFile();
    RotatingLogFile(const RotatingLogFile&) = delete;
    RotatingLogFile& operator=(const RotatingLogFile&) = delete;

    Status append(const LogLine& line);
    const std::filesystem::path& path() const { return path_; }

private:
    Status rotate();
    std::filesystem::path path_;
    std::size_t max_bytes_;
    int keep_;
    std::FILE* file_ = nullptr;
    std::size_t size_ = 0;
};

std::string format_log_line(const LogLine& line);

}  // namespace tandem::process

namespace tandem::process {

// The rings and files of every service, and the live subscribers. Safe to call from any
// thread (a mutex guards it); subscribers are called on the appending thread.
class LogStore {
public:
    struct Limits {
        std::size_t ring_lines = 5000;
        std::size_t ring_bytes = 2 * 1024 * 1024;
        std::size_t file_bytes = 10 * 1024 * 1024;
        int files_kept = 3;
    };
    using Subscriber = std::function<void(const LogLine&)>;

    LogStore(std::filesystem::path directory, Limits limits);  // files: directory/<service>.log
    LogStore(const LogStore&) = delete;
    LogStore& operator=(const LogStore&) = delete;
    ~LogStore();

    void append(LogLine line);
    std::vector<LogLine> tail(const std::string& service, std::size_t count) const;
    int subscribe(Subscriber subscriber);
    void unsubscribe(int id);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace tandem::process

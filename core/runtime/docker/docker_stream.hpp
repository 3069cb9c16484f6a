// Decoders for the daemon's streamed bodies: newline-separated JSON (build progress, events) and
// the multiplexed stdout/stderr stream of logs and exec (an 8-byte header per frame: stream
// type, 3 zero bytes, big-endian length). Pure: fed bytes, they call back.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tandem::docker {

// Splits bytes into lines (without the '\n'; a trailing '\r' is dropped too).
class LineSplitter {
public:
    explicit LineSplitter(std::function<void(std::string_view line)> on_line) : on_line_(std::move(on_line)) {}
    void feed(std::string_view bytes);
    void finish();  // a last line without '\n', if any

private:
    std::function<void(std::string_view)> on_line_;
    std::string partial_;
};

enum class OutputStream { stdout_stream, stderr_stream };

// "stdout" / "stderr".
const char* to_string(OutputStream stream);

// Splits the multiplexed stream into frames and gives each frame's bytes with its stream.
// Frames of stream 0 (stdin) are dropped; bytes may arrive cut anywhere.
class StreamDemuxer {
public:
    explicit StreamDemuxer(std::function<void(OutputStream, std::string_view)> on_bytes)
        : on_bytes_(std::move(on_bytes)) {}
    void feed(std::string_view bytes);
    bool mid_frame() const { return header_.size() > 0 || remaining_ > 0; }

private:
    std::function<void(OutputStream, std::string_view)> on_bytes_;
    std::string header_;
    std::uint32_t remaining_ = 0;
    int stream_ = 1;
};

// A demuxer whose output is lines, each stream split on its own (an unfinished stdout line is
// not cut by a stderr frame in between).
class DemuxedLines {
public:
    explicit DemuxedLines(std::function<void(OutputStream, std::string_view line)> on_line);
    DemuxedLines(const DemuxedLines&) = delete;  // the demuxer points back at this object
    DemuxedLines& operator=(const DemuxedLines&) = delete;
    void feed(std::string_view bytes) { demuxer_.feed(bytes); }
    void finish();

private:
    LineSplitter out_;
    LineSplitter err_;
    StreamDemuxer demuxer_;
};

}  // namespace tandem::docker

// Line splitting and the 8-byte-header demultiplexing of the daemon's streams.
#include "runtime/docker/docker_stream.hpp"

#include <algorithm>

namespace tandem::docker {

void LineSplitter::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto newline = bytes.find('\n');
        if (newline == std::string_view::npos) {
            partial_.append(bytes);
            return;
        }
        partial_.append(bytes.substr(0, newline));
        bytes.remove_prefix(newline + 1);
        if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
        const std::string line = std::move(partial_);
        partial_.clear();
        on_line_(line);
    }
}

void LineSplitter::finish() {
    if (partial_.empty()) return;
    const std::string line = std::move(partial_);
    partial_.clear();
    on_line_(line);
}

const char* to_string(OutputStream stream) {
    return stream == OutputStream::stderr_stream ? "stderr" : "stdout";
}

void StreamDemuxer::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        if (remaining_ == 0) {
            const std::size_t need = 8 - header_.size();
            const std::size_t take = std::min(need, bytes.size());
            header_.append(bytes.substr(0, take));
            bytes.remove_prefix(take);
            if (header_.size() < 8) return;
            const auto byte = [&](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(header_[i])); };
            stream_ = static_cast<int>(byte(0));
            remaining_ = (byte(4) << 24) | (byte(5) << 16) | (byte(6) << 8) | byte(7);
            header_.clear();
            continue;
        }
        const std::size_t take = std::min<std::size_t>(remaining_, bytes.size());
        if (stream_ == 1 || stream_ == 2) {
            on_bytes_(stream_ == 2 ? OutputStream::stderr_stream : OutputStream::stdout_stream, bytes.substr(0, take));
        }
        remaining_ -= static_cast<std::uint32_t>(take);
        bytes.remove_prefix(take);
    }
}

DemuxedLines::DemuxedLines(std::function<void(OutputStream, std::string_view)> on_line)
    : out_([on_line](std::string_view line) { on_line(OutputStream::stdout_stream, line); }),
      err_([on_line](std::string_view line) { on_line(OutputStream::stderr_stream, line); }),
      demuxer_([this](OutputStream stream, std::string_view bytes) {
          (stream == OutputStream::stderr_stream ? err_ : out_).feed(bytes);
      }) {}

void DemuxedLines::finish() {
    out_.finish();
    err_.finish();
}

}  // namespace tandem::docker

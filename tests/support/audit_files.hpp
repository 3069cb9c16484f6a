// An audit log's files as a test tampers with them: its lines, written back as they are or
// re-chained (every prev recomputed, the head to match) as someone who can write every file would.
#pragma once

#include "support/sha256.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tandem::test {

inline std::vector<std::string> lines_of(const std::filesystem::path& file) {
    std::istringstream in(read_text(file));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

inline void write_lines(const std::filesystem::path& file, const std::vector<std::string>& lines) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    for (const auto& line : lines) out << line << '\n';
}

// Writes `lines` as the log with every prev recomputed, and `<file>.head` naming the last one:
// a log the hash chain alone cannot tell from one the engine wrote.
inline void rechain(const std::filesystem::path& file, std::vector<std::string> lines) {
    std::string prev;
    for (auto& line : lines) {
        const auto start = line.find(",\"prev\":\"") + 9;
        line.replace(start, line.find('"', start) - start, prev);
        prev = sha256_hex(line);
    }
    write_lines(file, lines);
    const auto& last = lines.back();
    std::ofstream(file.string() + ".head", std::ios::trunc) << last.substr(7, last.find(',') - 7) << " " << prev << "\n";
}

}  // namespace tandem::test

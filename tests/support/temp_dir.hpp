// A directory under /tmp that exists for one test and is removed with everything in it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace tandem::test {

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    // Writes `content` to `relative` (parents created) and returns the full path.
    std::filesystem::path write(std::string_view relative, std::string_view content) const;

private:
    std::filesystem::path path_;
};

std::string read_text(const std::filesystem::path& file);

}  // namespace tandem::test

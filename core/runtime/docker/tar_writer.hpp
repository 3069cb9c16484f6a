// A ustar archive writer, in memory: what the daemon takes as a build context (POST /build) and
// as files to put into a container (PUT /containers/{id}/archive). Names longer than ustar's
// 100 (+155 prefix) bytes, link targets over 100 bytes and sizes over 8 GiB get a pax extended
// header. Owner and group are 0 and, unless given, the time is 0, so the same files give the same
// bytes (an image build keyed on its context sees no change where none was made).
#pragma once

#include <tandem/error.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace tandem::docker {

class TarWriter {
public:
    // `name` is '/'-separated and relative ("app/main.py"; a directory may end in '/').
    void add_file(std::string_view name, std::string_view content, unsigned mode = 0644);
    void add_directory(std::string_view name, unsigned mode = 0755);
    void add_symlink(std::string_view name, std::string_view target);
    // Copies one entry of the disk (a regular file, a directory or a symbolic link) as `name`.
    Status add_path(const std::filesystem::path& path, std::string_view name);

    void set_mtime(std::int64_t seconds) { mtime_ = seconds; }

    // The archive, with its two closing zero blocks; the writer is empty after.
    std::string finish();

private:
    void add_entry(std::string_view name, char type, std::string_view content, unsigned mode,
                   std::string_view link, std::uint64_t size);

    std::string out_;
    std::int64_t mtime_ = 0;
};

}  // namespace tandem::docker

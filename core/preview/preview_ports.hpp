// The public ports of one preview's services: each chosen once (a free port of 127.0.0.1) and
// kept in `ports.json` in the preview's state directory, so that a preview keeps its URLs
// across commits and engine restarts.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tandem::detail {

class PreviewPorts {
public:
    // Reads the file if it exists; a file that does not parse is an error naming it.
    static Result<std::shared_ptr<PreviewPorts>> open(std::filesystem::path file);

    // The port this preview publishes for `written` of `service`: the one kept, else a new
    // free one, written to the file before it is returned.
    Result<int> port(const std::string& service, int written);

    // A kept port something else listens on now (taken while the preview was stopped or
    // shipper was not running) is replaced by a new free one, written to the file. Call it only
    // while none of this preview's own listeners runs: they would count as something else.
    struct Move {
        std::string service;
        int written = 0;
        int from = 0;
        int to = 0;
    };
    Result<std::vector<Move>> replace_taken();

    explicit PreviewPorts(std::filesystem::path file) : file_(std::move(file)) {}

private:
    Status save();

    std::filesystem::path file_;
    std::mutex mutex_;
    std::map<std::string, int> ports_;  // "service:written" -> port
};

// A port of 127.0.0.1 nothing listens on now (the kernel's choice).
Result<int> free_local_port();

// Whether `port` of 127.0.0.1 could be listened on now (as a listener with SO_REUSEADDR would).
bool local_port_free(int port);

}  // namespace tandem::detail

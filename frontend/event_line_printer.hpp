// How `run` prints its events: one line each. Log lines in the one log line format
// (format_log_line, as `devloop up` and `logs` print them), other events as
// "17:15:56.123 api: ready" or, without a service, "17:15:56.123 shipper: text" (the tool's
// name; local time); with --output json one object per line (to_json).
#pragma once

#include <tandem/runtime.hpp>

#include <iosfwd>
#include <mutex>
#include <string>
#include <utility>

namespace tandem::cli {

// Safe to call from any thread: runtime events arrive on the runtime's own thread.
class EventLinePrinter {
public:
    EventLinePrinter(std::ostream& out, std::ostream& err, bool json, std::string tool)
        : out_(out), err_(err), json_(json), tool_(std::move(tool)) {}
    void print(const RuntimeEvent& e);

private:
    std::ostream& out_;
    std::ostream& err_;
    bool json_ = false;
    std::string tool_;  // who speaks for events of no service: "shipper", "devloop"
    std::mutex mutex_;
};

}  // namespace tandem::cli

// The followers of services' logs on a control socket (`logs -f`): each gets the formatted
// new lines of one service as the runtime emits them.
#pragma once

#include <tandem/runtime.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace tandem {

class LogFollowers {
public:
    using Sink = std::function<void(const std::string&)>;

    // Hands a log event's line to the followers of its service; other events are ignored.
    void publish(const RuntimeEvent& event);
    int follow(const std::string& service, Sink sink);
    void unfollow(int id);

private:
    std::mutex mutex_;
    int next_id_ = 1;
    std::map<int, std::pair<std::string, Sink>> followers_;
};

}  // namespace tandem

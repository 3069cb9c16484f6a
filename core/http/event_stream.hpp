// Server-Sent Events for the API's streams: the text of each event, and the bounded queue
// between the engine's threads (which must never wait for a slow client) and the connection.
#pragma once

#include <tandem/runtime.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::http {

// "event: NAME\ndata: DATA\n\n"; `data` is one line (JSON).
std::string sse_event(std::string_view name, std::string_view data);

// An `event: log` of a followed service: data {"line": TEXT}.
std::string log_event(std::string_view line);

class StreamQueue {
public:
    // `wake` is called (on the pushing thread) when the queue goes from empty to not empty.
    StreamQueue(std::size_t max_events, std::function<void()> wake);

    // An event; when the queue is full its oldest droppable event (a log line) goes (the
    // oldest event if none is), and the next take() says so: `event: dropped`, data {"count": N}.
    void push(std::string text, bool droppable);
    // The latest status event: replaces one still waiting, and is taken after the events.
    void set_status(std::string text);
    // Everything waiting, as one piece of text ("" if nothing).
    std::string take();

private:
    const std::size_t max_events_;
    const std::function<void()> wake_;
    std::mutex mutex_;
    std::deque<std::pair<std::string, bool>> events_;  // text, droppable
    std::optional<std::string> status_;
    std::size_t dropped_ = 0;
};

}  // namespace tandem::http

// Threads for work that blocks in the engine (a sync, a trigger), so the server's own thread
// keeps serving other requests and streams meanwhile.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace tandem::http {

class BackgroundTasks {
public:
    explicit BackgroundTasks(std::size_t max_running) : max_running_(max_running) {}
    ~BackgroundTasks();  // waits for every task
    BackgroundTasks(const BackgroundTasks&) = delete;
    BackgroundTasks& operator=(const BackgroundTasks&) = delete;

    // Runs `task` on a thread of its own; false (and nothing runs) with max_running under way.
    bool run(std::function<void()> task);

private:
    struct Task {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    void join_finished();  // with mutex_ held

    const std::size_t max_running_;
    std::mutex mutex_;
    std::list<Task> tasks_;
};

}  // namespace tandem::http

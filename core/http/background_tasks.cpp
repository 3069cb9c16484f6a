// A thread per task, joined once it is done (at the next run()) or at the end.
#include "http/background_tasks.hpp"

namespace tandem::http {

BackgroundTasks::~BackgroundTasks() {
    std::lock_guard lock(mutex_);
    for (Task& task : tasks_) task.thread.join();
}

void BackgroundTasks::join_finished() {
    for (auto it = tasks_.begin(); it != tasks_.end();) {
        if (!*it->done) {
            ++it;
            continue;
        }
        it->thread.join();
        it = tasks_.erase(it);
    }
}

bool BackgroundTasks::run(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    join_finished();
    if (tasks_.size() >= max_running_) return false;
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([task = std::move(task), done] {
        try {
            task();
        } catch (...) {
            // A task reports through what it captured; an exception has no one to go to.
        }
        *done = true;
    });
    tasks_.push_back(Task{std::move(thread), std::move(done)});
    return true;
}

}  // namespace tandem::http

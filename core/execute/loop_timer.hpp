// One pending timer on the executor's EventLoop, cancelled when it is reset or destroyed: what
// the supervision code holds for a gate, a restart's backoff or the next health check.
#pragma once

#include <tandem/runtime.hpp>

#include <utility>

namespace tandem::execute {

class LoopTimer {
public:
    LoopTimer() = default;
    LoopTimer(const LoopTimer&) = delete;
    LoopTimer& operator=(const LoopTimer&) = delete;
    ~LoopTimer() { cancel(); }

    // Replaces the pending timer, if any. `loop` must outlive this timer's pending task.
    void start(EventLoop& loop, Duration delay, EventLoop::Task task) {
        cancel();
        loop_ = &loop;
        pending_ = true;
        id_ = loop.after(delay, [this, task = std::move(task)] {
            pending_ = false;
            task();
        });
    }
    void cancel() {
        if (pending_ && loop_) loop_->cancel(id_);
        pending_ = false;
    }
    bool pending() const { return pending_; }

private:
    EventLoop* loop_ = nullptr;
    EventLoop::TimerId id_ = 0;
    bool pending_ = false;
};

}  // namespace tandem::execute

// A ControlHandler for the control socket's tests: canned statuses and logs, recorded calls,
// followers the test can push lines to.
#pragma once

#include <tandem/control.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tandem::test {

class FakeControlHandler : public ControlHandler {
public:
    std::vector<ServiceStatus> services;
    std::map<std::string, std::vector<std::string>> log_lines;
    Status action_result = Ok{};  // what down, reset and trigger answer

    std::vector<ServiceStatus> status() override {
        std::lock_guard lock(mutex_);
        return services;
    }
    std::string policy_name() override { return "wip"; }
    std::vector<std::string> logs(const std::string& service, std::size_t count) override {
        std::lock_guard lock(mutex_);
        calls_.push_back("logs " + service + " " + std::to_string(count));
        const auto& all = log_lines[service];
        const std::size_t from = all.size() > count ? all.size() - count : 0;
        return {all.begin() + static_cast<std::ptrdiff_t>(from), all.end()};
    }
    int follow_logs(const std::string&, std::function<void(const std::string&)> sink) override {
        std::lock_guard lock(mutex_);
        const int id = next_id_++;
        followers_[id] = std::move(sink);
        changed_.notify_all();
        return id;
    }
    void unfollow(int id) override {
        std::lock_guard lock(mutex_);
        followers_.erase(id);
        unfollowed_.push_back(id);
        changed_.notify_all();
    }
    Status down() override { return record("down"); }
    Status reset(const std::string& service, const std::string&) override { return record("reset " + service); }
    Status trigger(const std::string& service, const std::string&) override { return record("trigger " + service); }
    std::map<std::string, std::string> refused_actions() override { return refused; }
    Counters counters() override { return Counters{7, 0}; }
    std::map<std::string, std::string> refused;  // what refused_actions() answers

    // Sends `line` to every follower, as the engine does when a service prints.
    void push_line(const std::string& line) {
        std::lock_guard lock(mutex_);
        for (auto& [id, sink] : followers_) sink(line);
    }
    bool wait_for_followers(std::size_t count) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(5), [&] { return followers_.size() == count; });
    }
    bool wait_for_unfollow(std::size_t count) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(5), [&] { return unfollowed_.size() >= count; });
    }
    std::vector<std::string> calls() {
        std::lock_guard lock(mutex_);
        return calls_;
    }

private:
    Status record(const std::string& call) {
        std::lock_guard lock(mutex_);
        calls_.push_back(call);
        return action_result;
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<int, std::function<void(const std::string&)>> followers_;
    std::vector<int> unfollowed_;
    std::vector<std::string> calls_;
    int next_id_ = 1;
};

}  // namespace tandem::test

// A ControlHandler for the control socket's and the HTTP API's tests: canned statuses, logs and
// release answers, recorded calls (and who made them), followers the test can push lines to.
#pragma once

#include <tandem/control.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
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
    // A git engine once a test gives it release answers, a disk engine before.
    SourceKind source() override { return release_json || sync_reply ? SourceKind::git : SourceKind::disk; }
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
    Status reset(const std::string& service, const std::string& actor) override {
        return record("reset " + service, actor);
    }
    Status trigger(const std::string& service, const std::string& actor) override {
        return record("trigger " + service, actor);
    }
    Status restart(const std::string& service, const std::string& actor) override {
        return record("restart " + service, actor);
    }
    std::map<std::string, std::string> refused_actions() override { return refused; }
    ServiceRefusals refused_service_actions() override { return service_refused; }
    ServiceRefusals service_refused;  // what refused_service_actions() answers
    Counters counters() override { return Counters{7, 3}; }
    std::map<std::string, std::string> refused;  // what refused_actions() answers

    // The release commands: the base class's "not a release engine" error until set.
    std::optional<std::string> release_json;        // release_status()
    std::optional<Result<std::string>> sync_reply;  // sync() and rollback()
    std::function<void()> during_sync;              // runs inside sync(), before it answers
    Result<std::string> release_status() override {
        if (!release_json) return ControlHandler::release_status();
        return *release_json;
    }
    Result<std::string> sync(const std::string& actor) override {
        (void)record("sync", actor);
        if (during_sync) during_sync();
        return sync_reply ? *sync_reply : ControlHandler::sync(actor);
    }
    Result<std::string> rollback(const std::string& revision, const std::string& actor) override {
        (void)record("rollback " + revision, actor);
        return sync_reply ? *sync_reply : ControlHandler::rollback(revision, actor);
    }
    Result<std::string> diff(const std::string& revision) override {
        (void)record("diff " + revision);
        if (!release_json) return ControlHandler::diff(revision);
        return std::string(R"({"plan":{"waves":[]},"table":"nothing to do\n"})");
    }
    Result<std::string> audit_trail(std::size_t count) override {
        (void)record("audit " + std::to_string(count));
        if (!release_json) return ControlHandler::audit_trail(count);
        return std::string(R"([{"event":"deploy"}])");
    }

    // Answers as an engine that follows git: a release with an empty history, syncs that deploy.
    void follow_git() {
        release_json = R"({"deployed":"1a2b3c","history":{"deployed":"1a2b3c","releases":[]}})";
        sync_reply = Result<std::string>(std::string(R"({"event":"deploy","outcome":"succeeded"})"));
    }

    // Replaces the statuses while a server may be reading them.
    void set_services(std::vector<ServiceStatus> now) {
        std::lock_guard lock(mutex_);
        services = std::move(now);
    }
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
    // Who asked for each call that names its actor, in order.
    std::vector<std::string> actors() {
        std::lock_guard lock(mutex_);
        return actors_;
    }
    bool wait_for_call(const std::string& call) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(5), [&] {
            return std::find(calls_.begin(), calls_.end(), call) != calls_.end();
        });
    }

private:
    Status record(const std::string& call, const std::string& actor = {}) {
        std::lock_guard lock(mutex_);
        calls_.push_back(call);
        if (!actor.empty()) actors_.push_back(actor);
        changed_.notify_all();
        return action_result;
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<int, std::function<void(const std::string&)>> followers_;
    std::vector<int> unfollowed_;
    std::vector<std::string> calls_;
    std::vector<std::string> actors_;
    int next_id_ = 1;
};

// A request of `operation` with each argument it takes filled in: service "api", revision
// "1a2b3c", tail 5.
inline ControlRequest filled_request(const EngineOperation& operation) {
    ControlRequest request;
    request.command = std::string(operation.name);
    if (operation.argument("service")) request.service = "api";
    if (operation.argument("revision")) request.revision = "1a2b3c";
    request.tail = 5;
    return request;
}

}  // namespace tandem::test

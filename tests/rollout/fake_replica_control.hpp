// A ReplicaControl that only records: every command in order ("start 10", "route 10",
// "retire 1", "discard 11"), which replicas are routed and alive, and the extremes those
// counts reached, so tests can assert exact sequences and the rollout's limits.
#pragma once

#include "execute/rollout.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace tandem::test {

class FakeReplicaControl : public execute::ReplicaControl {
public:
    // `old` replicas are alive and routed; new ones get ids from `first_new_id` on.
    explicit FakeReplicaControl(std::vector<int> old, int first_new_id = 10)
        : routed(old.begin(), old.end()), alive(old.begin(), old.end()), next_id_(first_new_id) {
        min_routed = static_cast<int>(routed.size());
        max_alive = static_cast<int>(alive.size());
    }

    int start_replica() override {
        const int id = next_id_++;
        record("start", id);
        alive.insert(id);
        starting.insert(id);
        max_alive = std::max(max_alive, static_cast<int>(alive.size()));
        return id;
    }
    void route(int id) override {
        record("route", id);
        routed.insert(id);
    }
    void retire(int id) override {
        record("retire", id);
        routed.erase(id);
        stopping.insert(id);
        // Only a retire takes a serving replica away on the rollout's behalf.
        min_routed = std::min(min_routed, static_cast<int>(routed.size()));
    }
    void discard(int id) override {
        record("discard", id);
        if (routed.count(id) != 0) discarded_routed = true;
        starting.erase(id);
        stopping.insert(id);
    }

    // The world reporting back to the rollout.
    void ready(execute::Rollout& rollout, int id) {
        starting.erase(id);
        rollout.replica_ready(id);
    }
    void stopped(execute::Rollout& rollout, int id) {
        forget(id);
        rollout.replica_stopped(id);
    }
    void failed(execute::Rollout& rollout, int id, const std::string& reason) {
        forget(id);
        rollout.replica_failed(id, reason);
    }

    std::string joined() const {
        std::string out;
        for (const auto& command : commands) out += (out.empty() ? "" : ", ") + command;
        return out;
    }

    std::vector<std::string> commands;
    std::set<int> routed;    // behind the proxy
    std::set<int> alive;     // a process exists: old ones, and new ones until stopped
    std::set<int> starting;  // started, not reported ready yet
    std::set<int> stopping;  // retired or discarded, not reported stopped yet
    int min_routed = 0;
    int max_alive = 0;
    bool discarded_routed = false;  // discard is only for replicas that never took traffic

private:
    void record(const char* verb, int id) { commands.push_back(std::string(verb) + " " + std::to_string(id)); }
    void forget(int id) {
        alive.erase(id);
        routed.erase(id);
        starting.erase(id);
        stopping.erase(id);
    }

    int next_id_;
};

}  // namespace tandem::test

// The API's Prometheus metrics: counters and histograms fed by runtime events and requests,
// gauges read from the engine at scrape time. Safe from any thread.
#pragma once

#include <tandem/control.hpp>
#include <tandem/runtime.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tandem::http {

class Metrics {
public:
    // A build or a start/replace that ended (outcome not "started") counts, with its elapsed time.
    void observe(const RuntimeEvent& event);
    void count_request(int status);

    // The text format 0.0.4, with the engine's statuses and counters of now.
    std::string render(const std::vector<ServiceStatus>& services, const ControlHandler::Counters& counters) const;

private:
    struct Histogram {
        static constexpr std::array<double, 10> kBounds = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
        std::array<std::uint64_t, kBounds.size()> buckets{};  // cumulative: observations <= each bound
        std::uint64_t count = 0;
        double sum = 0;
        void add(double seconds);
    };
    void render_histograms(std::string& out, const char* name, const char* help,
                           const std::map<std::string, Histogram>& histograms) const;

    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> rollouts_;  // service, outcome
    std::map<std::string, Histogram> builds_, rollout_durations_;             // by service
    std::map<int, std::uint64_t> requests_;                                   // by status code
};

}  // namespace tandem::http

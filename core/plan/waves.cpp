// Groups a plan's steps into waves by dependency depth and the policy's parallelism limit.
#include "plan/waves.hpp"

#include <algorithm>

namespace tandem {

namespace {

std::vector<Wave> split_wave(Wave wave, int max_parallel) {
    if (max_parallel <= 0 || wave.steps.size() <= static_cast<std::size_t>(max_parallel)) return {std::move(wave)};
    std::vector<Wave> parts;
    for (Step& step : wave.steps) {
        if (parts.empty() || parts.back().steps.size() == static_cast<std::size_t>(max_parallel)) parts.emplace_back();
        parts.back().steps.push_back(std::move(step));
    }
    return parts;
}

}  // namespace

std::map<std::string, int> service_depths(const Spec& spec) {
    std::map<std::string, int> depths;
    // dependency_order puts every service after its dependencies, so theirs are known.
    for (const ServiceSpec* service : dependency_order(spec)) {
        int depth = 0;
        for (const std::string& dependency : service->depends_on) {
            const auto found = depths.find(dependency);
            if (found != depths.end()) depth = std::max(depth, found->second + 1);
        }
        depths[service->name] = depth;
    }
    return depths;
}

std::vector<Wave> arrange_waves(const Spec& spec, std::vector<Step> stops, std::vector<Step> steps, int max_parallel) {
    const auto depths = service_depths(spec);
    std::map<std::string, std::size_t> position;
    for (const ServiceSpec* service : dependency_order(spec)) position.emplace(service->name, position.size());
    auto depth_of = [&](const Step& step) {
        const auto found = depths.find(step.service);
        return found == depths.end() ? 0 : found->second;
    };
    auto position_of = [&](const Step& step) {
        const auto found = position.find(step.service);
        return found == position.end() ? position.size() : found->second;
    };
    std::stable_sort(steps.begin(), steps.end(), [&](const Step& a, const Step& b) {
        if (depth_of(a) != depth_of(b)) return depth_of(a) < depth_of(b);
        return position_of(a) < position_of(b);
    });

    std::map<int, Wave> by_depth;
    for (Step& stop : stops) by_depth[0].steps.push_back(std::move(stop));
    for (Step& step : steps) by_depth[depth_of(step)].steps.push_back(std::move(step));

    std::vector<Wave> waves;
    for (auto& [depth, wave] : by_depth) {
        if (wave.steps.empty()) continue;
        for (Wave& part : split_wave(std::move(wave), max_parallel)) waves.push_back(std::move(part));
    }
    return waves;
}

}  // namespace tandem

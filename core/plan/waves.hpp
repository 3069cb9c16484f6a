// Ordering a plan's steps into dependency waves: a service updates only after everything it
// depends on, and a wave holds at most updates.max_parallel steps.
#pragma once

#include <tandem/plan.hpp>

#include <map>
#include <string>
#include <vector>

namespace tandem {

// 0 for a service that depends on nothing, else 1 + the deepest of its depends_on.
std::map<std::string, int> service_depths(const Spec& spec);

// Steps grouped by depth, shallowest first, in dependency order within a wave; `stops` lead
// the first wave. With max_parallel > 0 each wave is cut into waves of at most that many
// steps, order kept. No wave is empty.
std::vector<Wave> arrange_waves(const Spec& spec, std::vector<Step> stops, std::vector<Step> steps, int max_parallel);

}  // namespace tandem

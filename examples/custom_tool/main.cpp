// plan-report: loads a project with the tandem library and prints the plan that would bring
// it up from nothing under a policy set — without devloop or shipper.
//
//   plan-report PROJECT_DIR [POLICY]
#include <tandem/plan.hpp>
#include <tandem/project.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: plan-report PROJECT_DIR [POLICY]\n";
        return 2;
    }
    tandem::ProjectOptions options;
    options.default_policy = "wip";  // unless tandem.yaml names one with `policy:`
    if (argc == 3) options.policy = argv[2];

    auto project = tandem::load_project(argv[1], options);
    if (!project) {
        std::cerr << "plan-report: " << project.error().to_string() << "\n";
        return 1;
    }

    tandem::PlanRequest request;
    request.bootstrap = true;  // nothing runs yet: ask for the whole bring-up
    auto plan = tandem::make_plan(project->spec, tandem::Observed{}, project->policy, request);
    if (!plan) {
        std::cerr << "plan-report: " << plan.error().to_string() << "\n";
        return 1;
    }
    std::cout << "project " << project->spec.project << ": " << project->spec.services.size() << " services, "
              << plan->action_count() << " actions in " << plan->waves.size() << " waves\n"
              << tandem::format_table(*plan);
    return 0;
}

// What a service's kind allows: a container service has no run, workdir, state or build
// command; a process service no command or volumes, and its user is one of this machine.
#include "config/service_parser.hpp"

#include <fmt/format.h>

namespace tandem::config {

namespace {

Error not_for(const ServiceSource& source, std::string_view key, const SourceLocation& at, std::string_view why) {
    return make_error(ErrorCode::invalid_value, fmt::format("'{}.{}': {}", source.where.path, key, why), at);
}

}  // namespace

Status check_service_kind(const ServiceSpec& service, const ServiceSource& source) {
    const ContainerSpec* container = service.container ? &*service.container : nullptr;
    if (container && container->image.empty() && !container->build)
        return not_for(source, source.container_key, source.container_key_location,
                       "applies to container services only: give the service 'image:' or an image 'build:' "
                       "(context, dockerfile), or run a process with 'run:'");
    for (std::size_t i = 0; i < service.watch.size(); ++i) {
        const WatchRule& rule = service.watch[i];
        if (rule.action != WatchAction::sync) continue;
        const std::string where = fmt::format("{}.watch.{}", source.where.path, i);
        if (container && rule.target.empty())
            return make_error(ErrorCode::invalid_value,
                              fmt::format("'{}': a sync rule of a container service needs 'target:', the path in the "
                                          "container where its files go",
                                          where),
                              rule.location);
        if (!container && !rule.target.empty())
            return make_error(ErrorCode::invalid_value,
                              fmt::format("'{}.target': applies to container services only (a process reads the "
                                          "project's files where they are)",
                                          where),
                              rule.location);
        if (!container && !rule.command.empty())
            return make_error(ErrorCode::invalid_value,
                              fmt::format("'{}.command': a sync rule runs a command only in a container; for a process "
                                          "use 'action: run'",
                                          where),
                              rule.location);
    }
    if (!container) {
        if (source.user_problem) return *source.user_problem;
        return Ok{};
    }
    constexpr std::string_view why = "a container service has no {} ({}): {}";
    if (!service.state.empty())
        return not_for(source, "state", source.state,
                       fmt::format(why, "'state:'", "directories of the host", "keep its data in a named volume, "
                                   "'volumes: [NAME:/path]'"));
    if (service.workdir != ".")
        return not_for(source, "workdir", source.workdir,
                       fmt::format(why, "'workdir:'", "its working directory is the image's",
                                   "set WORKDIR in its Dockerfile"));
    if (service.build)
        return not_for(source, "build", service.build->location,
                       fmt::format(why, "build command", "'build:' with 'command'",
                                   "build its image with 'build: {context: ., dockerfile: Dockerfile}'"));
    return Ok{};
}

}  // namespace tandem::config

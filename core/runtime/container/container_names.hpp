// What the Docker runtime calls the objects it makes, and the labels that say whose they are.
// Pure functions of the runtime's options, so that a new engine of the same state directory
// finds what a killed one made.
#pragma once

#include "runtime/docker/docker_types.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace tandem::container {

// Label keys.
inline constexpr const char* project_label = "tandem.project";
inline constexpr const char* engine_label = "tandem.engine";    // the engine's state directory
inline constexpr const char* run_label = "tandem.run";          // one engine's life
inline constexpr const char* service_label = "tandem.service";
inline constexpr const char* replica_label = "tandem.replica";  // a replica's id, or a command's kind

// `text` as a part of a Docker object name: lower case, [a-z0-9_.-], starting with a letter or
// digit ("My App!" -> "my-app"); "tandem" when nothing is left.
std::string docker_name_part(std::string_view text);

class Names {
public:
    // `project` empty: the name of the state directory's parent (the project's directory).
    Names(const std::string& project, const std::filesystem::path& state_dir, docker::Labels extra = {});

    const std::string& project() const { return project_; }
    // The project's own name (`project:`), once it is known: what objects made from then on are
    // called (the engine's label, which finds them again, does not change).
    void set_project(const std::string& project);
    const std::string& engine() const { return engine_; }
    const std::string& run() const { return run_; }

    std::string network() const;                                   // "<project>-<8 hex of the engine>"
    std::string container(const std::string& service, int replica) const;  // "<project>-<service>-<replica>-<run>"
    std::string command(const std::string& service, std::string_view kind, int id) const;
    std::string volume(const std::string& name) const;             // "<project>_<name>", as compose names them
    std::string image_tag(const std::string& service) const;      // "<project>-<service>:tandem"

    docker::Labels engine_labels() const;  // project, engine
    // What finds everything this state directory's engines made, whatever project name they
    // made it under (a killed engine's `project:` was known; a new one's is not yet): engine.
    docker::Labels owner_labels() const;
    docker::Labels labels(const std::string& service, const std::string& replica) const;  // and run, service, replica

private:
    std::string project_;
    std::string engine_;
    std::string run_;
    std::string engine_hash_;
    docker::Labels extra_;
};

}  // namespace tandem::container

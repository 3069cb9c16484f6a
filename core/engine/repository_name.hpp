// A repository's name as people say it, for the project name an engine on it defaults to.
#pragma once

#include <string>

namespace tandem::detail {

// "shop" of "/srv/git/shop.git", "https://host/team/shop.git/", "git@host:shop" or "shop".
inline std::string repository_name(std::string repository) {
    while (repository.size() > 1 && repository.back() == '/') repository.pop_back();
    const auto slash = repository.find_last_of("/:");
    std::string name = slash == std::string::npos ? repository : repository.substr(slash + 1);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".git") == 0) name.resize(name.size() - 4);
    return name;
}

}  // namespace tandem::detail

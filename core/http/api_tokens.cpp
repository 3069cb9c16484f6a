// The API token file: "NAME ROLE SECRET" a line.
#include <tandem/http_api.hpp>

#include <fstream>
#include <set>
#include <sstream>

namespace tandem {

namespace {

Error token_error(const std::filesystem::path& file, int line, const std::string& message) {
    return make_error(ErrorCode::invalid_value, message, SourceLocation{file.string(), line, 0});
}

}  // namespace

Result<std::vector<ApiToken>> load_api_tokens(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) return make_error(ErrorCode::io, "cannot read the API token file " + file.string());
    std::vector<ApiToken> tokens;
    std::set<std::string> names, secrets;
    std::string text;
    for (int line = 1; std::getline(in, text); ++line) {
        std::istringstream fields(text);
        ApiToken token;
        if (!(fields >> token.name) || token.name.front() == '#') continue;
        std::string extra;
        if (!(fields >> token.role >> token.secret) || (fields >> extra))
            return token_error(file, line, "expected three fields, NAME ROLE SECRET");
        if (!names.insert(token.name).second)
            return token_error(file, line, "token name '" + token.name + "' is used twice");
        if (!secrets.insert(token.secret).second)
            return token_error(file, line, "token '" + token.name + "' has the same secret as another token");
        tokens.push_back(std::move(token));
    }
    if (in.bad()) return make_error(ErrorCode::io, "cannot read the API token file " + file.string());
    return tokens;
}

}  // namespace tandem

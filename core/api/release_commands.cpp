// The release commands' answer from an engine that follows files on disk.
#include <tandem/control.hpp>

namespace tandem {

namespace {

Error not_a_release_engine(const std::string& command) {
    return make_error(ErrorCode::usage, "this engine follows files on disk, not a git repository: `" + command +
                                            "` needs an engine started with `shipper run --repo URL`");
}

}  // namespace

Result<std::string> ControlHandler::release_status() { return not_a_release_engine("history"); }
Result<std::string> ControlHandler::sync(const std::string&) { return not_a_release_engine("sync"); }
Result<std::string> ControlHandler::rollback(const std::string&, const std::string&) {
    return not_a_release_engine("rollback");
}
Result<std::string> ControlHandler::diff(const std::string&) { return not_a_release_engine("diff"); }
Result<std::string> ControlHandler::audit_trail(std::size_t) { return not_a_release_engine("audit"); }

}  // namespace tandem

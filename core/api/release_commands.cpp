// The release commands' answer from an engine that follows files on disk.
#include <tandem/control.hpp>

namespace tandem {

Result<std::string> ControlHandler::release_status() { return unsupported_operation("history", source()); }
Result<std::string> ControlHandler::sync(const std::string&) { return unsupported_operation("sync", source()); }
Result<std::string> ControlHandler::rollback(const std::string&, const std::string&) {
    return unsupported_operation("rollback", source());
}
Result<std::string> ControlHandler::diff(const std::string&) { return unsupported_operation("diff", source()); }
Result<std::string> ControlHandler::audit_trail(std::size_t) { return unsupported_operation("audit", source()); }

}  // namespace tandem

// One client connection of the control socket: reads its request, asks the handler, writes
// the reply lines, and for `logs --follow` streams until the client or the server goes away.
#pragma once

#include <tandem/control.hpp>

namespace tandem::control {

// Serves the client on `client_fd` (which the caller closes afterwards). `wake_fd` becomes
// readable when the server stops: the session then ends as soon as it can.
void serve_session(int client_fd, int wake_fd, ControlHandler& handler);

}  // namespace tandem::control

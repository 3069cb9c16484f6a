// The one way the library includes Boost.Asio. Boost 1.74's awaitable.hpp uses std::exchange
// without including <utility>, so it is included first, here, once. Private: Asio never
// appears in a public header.
#pragma once

#include <utility>

#include <boost/asio.hpp>

namespace tandem::process {
namespace asio = boost::asio;
}

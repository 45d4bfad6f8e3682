#include "bovit/run.hpp"

#ifndef BOVIT_VERSION
#define BOVIT_VERSION "0.0.0"
#endif

namespace bovit {
std::string version() { return BOVIT_VERSION; }
}  // namespace bovit

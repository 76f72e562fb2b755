// Random admin password for a new lab.
#pragma once

#include <cstddef>
#include <string>

#include "common/error.h"

namespace vcube::lab {

// `length` characters from [A-Za-z0-9], from the kernel's random source.
result<std::string> generate_password(std::size_t length);

}  // namespace vcube::lab

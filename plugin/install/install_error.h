// The one error the installer raises: what was refused or failed, and where. main prints it and exits 1.
#pragma once

#include <stdexcept>

namespace topo::install {

struct InstallError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace topo::install

// A fresh directory under the system temp dir for one test, removed with its contents at the end (when the
// test fails too).
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace topo::test {

struct TempDir {
  std::filesystem::path path;
  // `name` prefixes the directory's name, so a leftover says which test made it.
  explicit TempDir(const std::string& name = "topo-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (name + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace topo::test

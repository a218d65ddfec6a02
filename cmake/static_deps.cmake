# The libraries the programs link, as topo::yaml-cpp, topo::fmt and topo::nftnl: static when TOPO_STATIC_DEPS
# is on, the distribution's shared libraries otherwise.
#
# Why static: the plugin is a new process for every pod event, and with shared libraries ld.so spent most of
# its start-up (VERSION: 1.4 ms, against 0.5 ms for /bin/true) mapping libstdc++, yaml-cpp, fmt and libnftnl
# and resolving ~2,000 symbol relocations against them. Debian 12 ships libyaml-cpp.a, libnftnl.a,
# libstdc++.a and libgcc_eh.a; fmt only as a shared library or headers, so engine/fmt/fmt_compiled.cpp
# builds fmt's compiled part into an archive of our own. There is no libmnl.a, so libmnl (and libc)
# stay shared: a fully static binary is not possible without building libmnl ourselves.
option(TOPO_STATIC_DEPS "Link yaml-cpp, libnftnl, fmt and libstdc++ statically (faster process start-up)" ON)

if(TOPO_STATIC_DEPS)
  find_library(TOPO_YAML_CPP_ARCHIVE NAMES libyaml-cpp.a REQUIRED)
  add_library(topo::yaml-cpp STATIC IMPORTED)
  set_target_properties(topo::yaml-cpp PROPERTIES
    IMPORTED_LOCATION ${TOPO_YAML_CPP_ARCHIVE}
    INTERFACE_INCLUDE_DIRECTORIES "$<TARGET_PROPERTY:yaml-cpp,INTERFACE_INCLUDE_DIRECTORIES>")

  find_library(TOPO_NFTNL_ARCHIVE NAMES libnftnl.a REQUIRED)
  add_library(topo::nftnl STATIC IMPORTED)
  set_target_properties(topo::nftnl PROPERTIES
    IMPORTED_LOCATION ${TOPO_NFTNL_ARCHIVE}
    INTERFACE_INCLUDE_DIRECTORIES "${NFTNL_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES PkgConfig::MNL)  # libnftnl.a calls into libmnl

  add_library(topo_fmt STATIC ${PROJECT_SOURCE_DIR}/engine/fmt/fmt_compiled.cpp)
  target_include_directories(topo_fmt PUBLIC "$<TARGET_PROPERTY:fmt::fmt,INTERFACE_INCLUDE_DIRECTORIES>")
  add_library(topo::fmt ALIAS topo_fmt)

  # The sanitizer runtimes expect the shared libstdc++ (ASan intercepts its operator new/delete).
  if(NOT TOPO_SANITIZE AND NOT TOPO_FUZZ)
    add_link_options(-static-libstdc++ -static-libgcc)
  endif()
else()
  add_library(topo::yaml-cpp ALIAS yaml-cpp)
  add_library(topo::nftnl ALIAS PkgConfig::NFTNL)
  add_library(topo::fmt ALIAS fmt::fmt)
endif()

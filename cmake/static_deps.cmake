# The libraries the programs link, as topo::yaml-cpp, topo::fmt, topo::nftnl and topo::mnl: static when
# TOPO_STATIC_DEPS is on, the distribution's shared libraries otherwise.
#
# Why static: the plugin is a new process for every pod event, and with shared libraries ld.so spent most of
# its start-up (VERSION: 1.4 ms, against 0.5 ms for /bin/true) mapping libstdc++, yaml-cpp, fmt and libnftnl
# and resolving ~2,000 symbol relocations against them. Debian 12 ships libyaml-cpp.a, libnftnl.a,
# libstdc++.a and libgcc_eh.a; fmt only as a shared library or headers, so engine/fmt/fmt_compiled.cpp
# builds fmt's compiled part into an archive of our own. There is no libmnl.a: engine/mnl/ implements the
# part of libmnl's API we and libnftnl.a use (engine/mnl/README.md says why not Debian's source).
#
# Why fully static (glibc too, -static): a node's CNI bin dir is filled by a DaemonSet, and the node may have
# no libmnl (Flatcar, Talos, Bottlerocket) or another glibc; a static binary runs on any Linux node and in an
# empty root. Static glibc is safe here because nothing calls NSS (no getpwnam, no getaddrinfo: the link
# would warn), and with no ld.so at all start-up is cheaper still. CPU time of the plugin process (perf stat
# task-clock, medians, runs interleaved, on a 2-vCPU machine at load 6-7, so absolute values are inflated),
# the last dynamic build -> the static one: VERSION 7.0 -> 4.3 ms (90 -> 58 page faults), ADD 20.9 -> 17.2 ms,
# DEL 16.3 -> 12.9 ms.
# The sanitizer and fuzzer runtimes need the dynamic loader and the shared libstdc++ (ASan intercepts
# operator new/delete), so those builds stay dynamic and link Debian's libmnl.
option(TOPO_STATIC_DEPS "Link every dependency and glibc statically (a fully static binary)" ON)
if(TOPO_STATIC_DEPS AND NOT TOPO_SANITIZE AND NOT TOPO_FUZZ)
  set(TOPO_FULLY_STATIC ON)
else()
  set(TOPO_FULLY_STATIC OFF)
endif()

if(TOPO_FULLY_STATIC)
  file(GLOB TOPO_MNL_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/engine/mnl/*.cpp)
  add_library(topo_mnl STATIC ${TOPO_MNL_SOURCES})
  target_include_directories(topo_mnl PUBLIC ${MNL_INCLUDE_DIRS})
  add_library(topo::mnl ALIAS topo_mnl)
else()
  add_library(topo::mnl ALIAS PkgConfig::MNL)
endif()

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
    INTERFACE_LINK_LIBRARIES topo::mnl)  # libnftnl.a calls into libmnl

  add_library(topo_fmt STATIC ${PROJECT_SOURCE_DIR}/engine/fmt/fmt_compiled.cpp)
  target_include_directories(topo_fmt PUBLIC "$<TARGET_PROPERTY:fmt::fmt,INTERFACE_INCLUDE_DIRECTORIES>")
  add_library(topo::fmt ALIAS topo_fmt)

  if(TOPO_FULLY_STATIC)
    add_link_options(-static)
  endif()
else()
  add_library(topo::yaml-cpp ALIAS yaml-cpp)
  add_library(topo::nftnl ALIAS PkgConfig::NFTNL)
  add_library(topo::fmt ALIAS fmt::fmt)
endif()

// The template keys of one object kind: what an item of its `<section>:` list may say. Each kind's unit
// declares its schema (KindOps<K>::schema()); template/objects.cpp checks every item against it at load time.
#pragma once

#include <string>
#include <vector>

#include "template/node.h"

namespace topo::tmpl {

// A key whose value is a map of its own (a veth's peer).
struct NestedMap {
  const char* key;
  const char* what;  // "a veth peer"
  std::vector<KeySpec> keys;
};

struct KindSchema {
  const char* what;                    // "a route", for messages
  std::vector<KeySpec> keys;           // besides `loop` and `when`, which every item may have
  std::vector<NestedMap> maps = {};    // keys whose value is a map
  std::vector<std::string> negatable = {};  // keys that also take {not: value} (nftables matches)
};

}  // namespace topo::tmpl

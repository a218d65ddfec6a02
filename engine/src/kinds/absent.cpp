#include "kinds/absent.h"

#include <fmt/format.h>

#include "template/fields.h"

namespace topo {

bool read_absent(tmpl::Fields& f, const char* what, const char* key_words, std::initializer_list<const char*> not_key) {
  if (!f.choice<bool>("state", {{"present", false}, {"absent", true}}).value_or(false)) return false;
  // Attributes outside the key would read as a filter ("only if it has this lladdr") that does not exist.
  for (const char* key : not_key)
    if (f.has(key))
      f.fail(key, fmt::format("'{}' has no meaning on {} with state: absent: any one with the same {} is "
                              "removed, whatever its '{}'",
                              key, what, key_words, key));
  return true;
}

void refuse_absent(tmpl::Fields& f, const char* what, const char* why) {
  if (f.choice<bool>("state", {{"present", false}, {"absent", true}}).value_or(false))
    f.fail("state", fmt::format("state: absent is not supported on {}: {}", what, why));
}

}  // namespace topo

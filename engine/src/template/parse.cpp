#include "template/parse.h"

#include <atomic>

#include "template/node.h"

namespace topo::tmpl {

namespace {
std::atomic<uint64_t> parses{0};
}  // namespace

YAML::Node parse_template_text(const std::string& file, const std::string& text) {
  parses.fetch_add(1, std::memory_order_relaxed);
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_at(file, e.mark, "", "not valid YAML: " + e.msg);
  }
}

uint64_t template_text_parses() { return parses.load(std::memory_order_relaxed); }

}  // namespace topo::tmpl

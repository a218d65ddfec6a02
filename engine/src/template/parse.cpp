#include "template/parse.h"

#include <atomic>
#include <stdexcept>

#include "template/node.h"

namespace topo::tmpl {

namespace {
std::atomic<uint64_t> parses{0};
}  // namespace

YAML::Node parse_yaml(const std::string& file, const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_at(file, Mark{e.mark.pos, e.mark.line, e.mark.column}, "", "not valid YAML: " + e.msg);
  }
}

std::shared_ptr<const Tree> parse_template_text(const std::string& file, const std::string& text) {
  parses.fetch_add(1, std::memory_order_relaxed);
  YAML::Node root = parse_yaml(file, text);
  try {
    return std::make_shared<const Tree>(root);
  } catch (const std::length_error& e) {
    fail_at(file, Mark::null_mark(), "", std::string("the template is too large: ") + e.what());
  }
}

uint64_t template_text_parses() { return parses.load(std::memory_order_relaxed); }

}  // namespace topo::tmpl

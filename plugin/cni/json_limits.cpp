#include "cni/json_limits.h"

#include <fmt/format.h>

#include <map>
#include <vector>

namespace topo::cni {

namespace {

// One open object or array, and where the scan is inside it.
struct Frame {
  bool object{false};
  bool expect_key{false};  // objects: the next string is a key
  std::string key;         // objects: the key whose value is being scanned
  size_t index{0};         // arrays: the item being scanned
};

// "prevResult.interfaces[0]" from the frames, at most `levels` deep.
std::string path_of(const std::vector<Frame>& stack, size_t levels) {
  std::string out;
  for (size_t i = 0; i < stack.size() && i < levels; ++i) {
    const Frame& f = stack[i];
    if (f.object) {
      out += (out.empty() ? "" : ".") + f.key;
    } else {
      out += fmt::format("[{}]", f.index);
    }
  }
  return out;
}

}  // namespace

std::optional<JsonLimitProblem> check_json_limits(std::string_view text, const JsonLimits& limits) {
  std::vector<Frame> stack;
  std::map<std::string, size_t> top_sizes;  // top-level key -> bytes of its value
  size_t value_start = 0;                   // where the current top-level value began
  bool in_string = false, escaped = false, capturing_key = false;
  std::string key;

  auto end_top_value = [&](size_t at) {
    if (stack.size() == 1 && stack[0].object && !stack[0].key.empty())
      top_sizes[stack[0].key] += at - value_start;
  };

  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        if (capturing_key) {
          capturing_key = false;
          stack.back().key = key;
        }
        continue;
      }
      if (capturing_key && key.size() < 64) key += c;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        if (!stack.empty() && stack.back().object && stack.back().expect_key) {
          capturing_key = true;
          key.clear();
        }
        break;
      case '{':
      case '[':
        if (stack.size() >= limits.max_depth) {
          if (stack.empty() || !stack[0].object)
            return JsonLimitProblem{"", fmt::format("it nests deeper than {} levels", limits.max_depth)};
          return JsonLimitProblem{path_of(stack, 4),
                                  fmt::format("it nests deeper than {} levels", limits.max_depth)};
        }
        stack.push_back(Frame{c == '{', c == '{', "", 0});
        break;
      case '}':
      case ']':
        if (stack.size() == 1) end_top_value(i);
        if (!stack.empty()) stack.pop_back();
        break;
      case ':':
        if (!stack.empty() && stack.back().object) {
          stack.back().expect_key = false;
          if (stack.size() == 1) value_start = i + 1;
        }
        break;
      case ',':
        if (!stack.empty()) {
          if (stack.size() == 1) end_top_value(i);
          if (stack.back().object) {
            stack.back().expect_key = true;
          } else {
            ++stack.back().index;
          }
        }
        break;
      default:
        break;
    }
  }
  if (text.size() <= limits.max_bytes) return std::nullopt;
  const std::string size =
      fmt::format("the network config is {} bytes, more than the {} allowed", text.size(), limits.max_bytes);
  if (top_sizes.empty()) return JsonLimitProblem{"", size};
  auto largest = top_sizes.begin();
  for (auto it = top_sizes.begin(); it != top_sizes.end(); ++it)
    if (it->second > largest->second) largest = it;
  return JsonLimitProblem{largest->first,
                          fmt::format("{} ({} bytes of them in this key)", size, largest->second)};
}

}  // namespace topo::cni

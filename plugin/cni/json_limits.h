// Bounds on the JSON a runtime hands the plugin, checked on the text before anything is parsed. The parser
// itself would manage deep nesting, but a parsed value is copied, compared, dumped and destroyed recursively
// further on (100,000 nested objects overflowed the stack; 100,000 nested arrays in prevResult.interfaces
// took 38 s and 4 GB before the journal write failed), and nothing topocni reads is more than a few levels
// deep or more than a few kilobytes long.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace topo::cni {

struct JsonLimits {
  size_t max_depth = 64;        // nested objects and arrays; a prevResult is 4 deep
  size_t max_bytes = 1u << 20;  // a prevResult of many interfaces and addresses is a few KiB
};

struct JsonLimitProblem {
  std::string key;      // where: "prevResult.interfaces[0]", or "" when the text is not a JSON object at all
  std::string message;  // what, with the limit
};

// One pass over `text` that follows only its structure (strings, brackets, commas, colons). Returns the first
// limit `text` exceeds: nesting deeper than max_depth (the key path it happens under, up to four levels), or
// more than max_bytes (the top-level key with the largest value). Malformed JSON within the limits is left
// to the parser, which reports it.
std::optional<JsonLimitProblem> check_json_limits(std::string_view text, const JsonLimits& limits = {});

}  // namespace topo::cni

// libFuzzer target: the journal reader (topo/journal_format.h), which DEL, CHECK and GC trust with the node's
// state. Any text must come back as a record, a list of problems or a JournalFormatError, never a crash; and
// a record read without problems must write back to the same JSON it was read from (strictness: nothing in
// a sound journal is silently dropped or changed).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>

#include "topo/journal_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    topo::JournalParse p = topo::parse_journal_record(text, "fuzz.json");
    if (!p.damaged()) {
      nlohmann::json in = nlohmann::json::parse(text);
      nlohmann::json back = topo::journal_record_to_json(p.record);
      // Harmless forms the writer never produces, and the reader accepts: format 1 (no key; any older format
      // reads as the current one, and a journal without `plugin` writes none back), no prevResult
      // (written as null), an empty netnsIdentity (not written), an empty section (not written), a "shared"
      // with no objects (not written).
      in["format"] = topo::kJournalFormat;
      if (!in.contains("prevResult")) back.erase("prevResult");
      if (in.value("netnsIdentity", "x").empty()) in.erase("netnsIdentity");
      for (const char* state : {"state", "takenOver", "shared"}) {
        if (!in.contains(state)) continue;
        for (auto it = in[state].begin(); it != in[state].end();) it = it->empty() ? in[state].erase(it) : std::next(it);
      }
      if (in.contains("shared") && in["shared"].empty()) in.erase("shared");
      if (back != in) std::abort();  // a sound journal that does not round-trip: the reader dropped something
    }
  } catch (const topo::JournalFormatError&) {
    // The expected refusal of a newer format.
  }
  return 0;
}

// The journal's file format: what a journal file says, read strictly. Pure (text in, record out, no I/O), so
// it is unit-tested and fuzzed (tests/fuzz/fuzz_journal.cpp) apart from the files (topo/journal.h).
//
// Formats: 1 is what topocni wrote before journals carried a version (no "format" key); 2 adds `"format": 2`
// and is otherwise the same; 3 may hold addresses, neighbours and rules with `"state": "absent"`, those kinds
// in `takenOver` (foreign objects to put back on DEL), which a format-2 binary would not put back, and
// `shared` (the node-wide objects the attachment uses: topo/shared_objects.h); 4 adds `plugin`, the conflist
// entry (its template) that is part of the attachment's identity (topo/journal.h Attachment), with the
// journal at "<containerId>-<ifname>@<plugin>.json" and marks naming it. A format-3 binary would take such a
// journal for its pod interface's only one (its GC set it aside as misnamed, a DEL by marks missed its
// objects). A format-4 journal without `plugin` is one of an attachment keyed by its interface alone (written
// before format 4, and re-ADDed since; topologies).
// Bump kJournalFormat whenever an older binary would misread a new journal (a key
// whose absence changes its meaning, a changed unit or spelling): an older binary then refuses it instead of
// guessing, and this one keeps reading every older format (migrating in parse_journal_record).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/error.h"
#include "topo/journal.h"

namespace topo {

inline constexpr int kJournalFormat = 4;        // what store() writes
inline constexpr int kOldestJournalFormat = 1;  // the oldest one read

// What a journal's text holds. `problems` lists every part that could not be read, each as "<JSON path>:
// <what is wrong>" (e.g. "state.routes[2].table: expected a number, found a string"); the record then holds
// the rest: each section, and each object of a section, is read on its own, so one damaged object does not
// lose the others (a damaged `state.routes` keeps a readable `takenOver`).
struct JournalParse {
  JournalRecord record;
  std::vector<std::string> problems;
  bool attachment_known = false;  // network, containerId and ifname were all read
  bool damaged() const { return !problems.empty(); }
};

// A journal written by a newer topocni, in a format this one does not know: nothing may be done on the
// strength of it, or on the marks it may claim (CNI code 5).
class JournalFormatError : public Error {
 public:
  JournalFormatError(std::string file_, unsigned long long found_);
  const std::string file;
  const unsigned long long found;
};

// A journal that is not what topocni writes: wrong types, missing keys, unknown object kinds, not JSON.
// `record` holds what could be read (the attachment is the one asked for), `problems` what could not.
class JournalDamagedError : public Error {
 public:
  JournalDamagedError(std::string file_, JournalRecord record_, std::vector<std::string> problems_);
  const std::string file;
  const JournalRecord record;
  const std::vector<std::string> problems;
};

// Strict: every key of the format is checked for presence and type, every object must read back exactly as
// topocni writes it, unknown keys and object kinds are problems. Throws JournalFormatError (naming `file`)
// for a format newer than kJournalFormat, and nothing else.
JournalParse parse_journal_record(std::string_view text, const std::string& file);

// The text store() writes: format kJournalFormat.
nlohmann::json journal_record_to_json(const JournalRecord& r);

}  // namespace topo

// observe() and apply() for table inet topocni. The caller has already entered the target network namespace
// and apply() holds the namespace's TableLock, so one listing taken at the start of apply() stays valid until its
// commit.
#include "nft/nat_table.h"

#include <fmt/format.h>
#include <nftables/libnftables.h>

#include "nft/context.h"
#include "nft/layout.h"
#include "nft/listing.h"
#include "nft/rule_decode.h"
#include "nft/table_lock.h"
#include "topo/error.h"

namespace topo::nft {

namespace {

constexpr unsigned kListFlags = NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE;

// Sets `owner` from a "topocni:<owner>" comment; false for rules that are not ours.
bool owner_of(const ListedRule& r, std::string& owner) {
  if (!r.comment.starts_with(kCommentPrefix)) return false;
  owner = r.comment.substr(kCommentPrefix.size());
  return true;
}

struct Script {
  std::string text;
  size_t commands{0};
  void add(const std::string& line) {
    text += line;
    text += '\n';
    ++commands;
  }
};

}  // namespace

std::vector<NatEntry> observe(const std::string& scope, const std::set<std::string>& owners) {
  Context ctx(kListFlags);
  std::vector<NatEntry> out;
  for (const ListedRule& r : list_table(ctx).rules) {
    std::string owner;
    if (!owner_of(r, owner) || !owners.contains(owner)) continue;
    out.push_back(decode_rule(r.expr, scope, owner));
  }
  return out;
}

void apply(const std::vector<Change>& changes) {
  std::vector<const NatEntry*> deletes, creates;
  for (const Change& c : changes) {
    const auto* e = std::get_if<NatEntry>(&c.object);
    if (!e) continue;
    switch (c.action) {
      case Action::Create:
        creates.push_back(e);
        break;
      case Action::Delete:
        deletes.push_back(e);
        break;
      case Action::Replace:
        // The rule's whole content is its identity, so "replace" is delete the old + add the new.
        if (c.previous) {
          if (const auto* prev = std::get_if<NatEntry>(&*c.previous)) deletes.push_back(prev);
        }
        creates.push_back(e);
        break;
    }
  }
  if (deletes.empty() && creates.empty()) return;

  // Render first: an entry nft syntax cannot express fails before anything is sent.
  std::vector<std::string> create_texts;
  for (const NatEntry* e : creates) create_texts.push_back(rule_text(*e));

  TableLock lock;  // the listing below must stay true until the commit
  Context ctx(kListFlags);
  const Listing listing = list_table(ctx);
  std::map<std::string, size_t> remaining = listing.chains;  // rules per chain after the commit
  Script script;

  // Deletes by handle: each observed rule is matched (by decoding it the way observe() does) at most once, so
  // two identical rules and two identical deletes pair up. A rule already gone is already deleted.
  std::vector<bool> taken(listing.rules.size(), false);
  for (const NatEntry* d : deletes) {
    for (size_t i = 0; i < listing.rules.size(); ++i) {
      const ListedRule& r = listing.rules[i];
      std::string owner;
      if (taken[i] || r.chain != chain_for(d->action) || !owner_of(r, owner) || owner != d->owner) continue;
      if (decode_rule(r.expr, d->scope, owner) != *d) continue;
      taken[i] = true;
      --remaining[r.chain];
      script.add(fmt::format("delete rule inet {} {} handle {}", kTable, r.chain, r.handle));
      break;
    }
  }

  // `add table` / `add chain` are no-ops when they exist with the same definition (nft(8)), so a create never
  // depends on the listing being complete.
  std::set<std::string_view> create_chains;
  for (const NatEntry* e : creates) create_chains.insert(chain_for(e->action));
  if (!creates.empty()) script.add(fmt::format("add table inet {}", kTable));
  for (std::string_view chain : create_chains)
    script.add(fmt::format("add chain inet {} {} {}", kTable, chain, chain_spec(chain)));
  for (size_t i = 0; i < creates.size(); ++i) {
    const std::string chain(chain_for(creates[i]->action));
    ++remaining[chain];
    script.add(fmt::format("add rule inet {} {} {}", kTable, chain, create_texts[i]));
  }

  // Leave the host as it was before our first rule: no empty table, no empty chain of ours. Deleting a table
  // or chain takes its rules with it (it is not refused when non-empty), so only do it when the listing,
  // taken under the caller's lock, says nothing of anyone's is left.
  if (listing.exists) {
    size_t total = 0;
    for (const auto& [chain, n] : remaining) total += n;
    if (total == 0) {
      script.add(fmt::format("delete table inet {}", kTable));
    } else if (!deletes.empty()) {
      for (std::string_view chain : {kPostrouting, kPrerouting}) {
        auto it = listing.chains.find(std::string(chain));
        if (it != listing.chains.end() && remaining[std::string(chain)] == 0)
          script.add(fmt::format("delete chain inet {} {}", kTable, chain));
      }
    }
  }
  if (script.commands == 0) return;
  ctx.run_transaction(script.text,
                      fmt::format("nft transaction on table inet {} ({} commands)", kTable, script.commands));
}

}  // namespace topo::nft

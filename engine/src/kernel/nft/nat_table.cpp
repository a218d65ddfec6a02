// observe() and apply() for table inet topocni. The caller has already entered the target network namespace
// and apply() holds the namespace's TableLock, so one listing taken at the start of apply() stays valid until
// its commit.
#include "kernel/nft/nat_table.h"

#include "kernel/nft/context.h"
#include "kernel/nft/layout.h"
#include "kernel/nft/listing.h"
#include "kinds/nat/rule_codec.h"
#include "kernel/nft/table_lock.h"
#include "kernel/nft/transaction.h"
#include "topo/error.h"

#include <fmt/format.h>

namespace topo::nft {

std::vector<NatEntry> observe(const std::string& scope, const std::set<std::string>& owners) {
  Context ctx;
  return observe(ctx, scope, owners);
}

void apply(const std::vector<Change>& changes) {
  Context ctx;
  apply(ctx, changes);
}

std::vector<NatEntry> observe(Context& ctx, const std::string& scope, const std::set<std::string>& owners) {
  std::vector<NatEntry> out;
  for (ListedRule& r : list_table(ctx, owners, true).rules) {
    if (!r.owner || !owners.contains(*r.owner)) continue;
    r.entry.scope = scope;
    out.push_back(std::move(r.entry));
  }
  return out;
}

void apply(Context& ctx, const std::vector<Change>& changes) {
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

  // Encode first: an entry that cannot be written fails before anything is sent. rule_text() also refuses
  // what nft syntax could not show (quotes in an owner), and names the rule in errors.
  std::vector<std::string> create_texts;
  std::vector<RulePtr> create_rules;
  for (const NatEntry* e : creates) {
    create_texts.push_back(rule_text(*e));
    create_rules.push_back(encode_rule(*e));
  }

  TableLock lock;  // the listing below must stay true until the commit
  std::set<std::string> deleted_owners;
  for (const NatEntry* d : deletes) deleted_owners.insert(d->owner);
  // Only deletes need the rules (their handles, and whether a chain or the table ends up empty); a commit of
  // creates only needs to know whether the table and chains exist. On a node with hundreds of pods the rule
  // dump is the larger part of the kernel's work for an ADD.
  const Listing listing = list_table(ctx, deleted_owners, !deletes.empty());
  std::map<std::string, size_t> remaining = listing.chains;  // rules per chain after the commit

  // A rule only runs in a chain hooked as ours: a chain of that name defined otherwise (an unhooked one
  // someone made) is a conflict, before anything is sent. Rules already in it that carry our comment are
  // still ours to delete.
  for (const NatEntry* e : creates) {
    const std::string chain(chain_for(*e));
    auto shape = listing.shapes.find(chain);
    if (shape != listing.shapes.end() && !shape->second.as_ours) {
      const ChainSpec spec = chain_spec(chain);
      throw ConflictError(fmt::format(
          "chain inet {} {} exists and is not topocni's: it is {}, where topocni needs type {} hook {} priority "
          "{}; nothing was changed",
          kTable, chain, shape->second.text, spec.type, hook_text(spec.hook), spec.priority));
    }
  }
  Transaction tx;

  // Deletes by handle: each listed rule is matched (decoded the way observe() does) at most once, so two
  // identical rules and two identical deletes pair up. A rule already gone is already deleted.
  std::vector<bool> taken(listing.rules.size(), false);
  for (const NatEntry* d : deletes) {
    for (size_t i = 0; i < listing.rules.size(); ++i) {
      const ListedRule& r = listing.rules[i];
      if (taken[i] || r.chain != chain_for(*d) || r.owner != d->owner) continue;
      NatEntry listed = r.entry;
      listed.scope = d->scope;
      if (listed != *d) continue;
      taken[i] = true;
      --remaining[r.chain];
      std::string text;
      try {
        text = rule_text(*d);
      } catch (const Error&) {
        text = "owner " + d->owner;
      }
      tx.delete_rule(r.chain, r.handle, text);
      break;
    }
  }

  // The table and chains are added only when the listing (taken under the lock every topocni writer holds)
  // lacks them. Re-adding an existing base chain is not free even though nft(8) calls it a no-op: the kernel
  // records it as a chain update, whose release waits for an RCU grace period, and closing the socket then
  // waits for that release (nft_rcv_nl_event flushes it). A commit of plain creates has nothing to release.
  std::set<std::string_view> create_chains;
  for (const NatEntry* e : creates) {
    if (!listing.chains.contains(std::string(chain_for(*e)))) create_chains.insert(chain_for(*e));
  }
  if (!creates.empty() && !listing.exists) tx.add_table();
  for (std::string_view chain : create_chains) tx.add_chain(chain);
  for (size_t i = 0; i < creates.size(); ++i) {
    const std::string chain(chain_for(*creates[i]));
    ++remaining[chain];
    tx.add_rule(*create_rules[i], chain, create_texts[i]);
  }

  // Leave the host as it was before our first rule: no empty table, no empty chain of ours. Deleting a table
  // or chain takes its rules with it (it is not refused when non-empty), so only do it when the listing,
  // taken under the lock, says nothing of anyone's is left, and only for a table or chain topocni made
  // (ownership.h): someone else's stays, empty or not.
  if (listing.exists) {
    size_t total = 0;
    for (const auto& [chain, n] : remaining) total += n;
    if (total == 0 && listing.others == 0 && listing.table_ours()) {
      tx.delete_table();
    } else if (!deletes.empty()) {
      for (std::string_view chain : kChains) {
        if (listing.chains.contains(std::string(chain)) && remaining[std::string(chain)] == 0 &&
            listing.chain_ours(chain))
          tx.delete_chain(chain);
      }
    }
  }
  tx.commit(ctx);
}

}  // namespace topo::nft

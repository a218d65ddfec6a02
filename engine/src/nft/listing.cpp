#include "nft/listing.h"

#include <fmt/format.h>

#include "nft/context.h"
#include "nft/nat_table.h"
#include "topo/error.h"

namespace topo::nft {

namespace {

using nlohmann::json;

json parse(const std::string& output, const std::string& what) {
  json doc = json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.contains("nftables") || !doc.at("nftables").is_array())
    throw SystemError(0, what + ": nft printed no JSON ruleset");
  return doc.at("nftables");
}

// nft reports a missing table as a plain error ("No such file or directory"); libnftables does not expose the
// errno. Rather than matching on message text, ask which inet tables exist (only on this failure path).
bool table_exists(Context& ctx) {
  auto r = ctx.try_run("list tables inet");
  if (!r.ok) throw SystemError(0, "nft list tables inet: " + r.error);
  for (const json& item : parse(r.output, "nft list tables inet")) {
    if (item.contains("table") && item.at("table").value("name", "") == kTable) return true;
  }
  return false;
}

}  // namespace

Listing list_table(Context& ctx) {
  const std::string command = fmt::format("list table inet {}", kTable);
  auto r = ctx.try_run(command);
  Listing listing;
  if (!r.ok) {
    if (!table_exists(ctx)) return listing;
    throw SystemError(0, "nft " + command + ": " + r.error);
  }
  listing.exists = true;
  try {
    for (const json& item : parse(r.output, "nft " + command)) {
      if (item.contains("chain")) {
        listing.chains.try_emplace(item.at("chain").at("name").get<std::string>(), 0);
      } else if (item.contains("rule")) {
        const json& rule = item.at("rule");
        ListedRule lr;
        lr.chain = rule.at("chain").get<std::string>();
        lr.handle = rule.at("handle").get<uint64_t>();
        lr.comment = rule.value("comment", "");
        lr.expr = rule.value("expr", json::array());
        ++listing.chains[lr.chain];
        listing.rules.push_back(std::move(lr));
      }
    }
  } catch (const json::exception& e) {
    throw SystemError(0, fmt::format("nft {}: unexpected JSON: {}", command, e.what()));
  }
  return listing;
}

}  // namespace topo::nft

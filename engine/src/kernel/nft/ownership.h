// How topocni recognises the nftables table and chains it made. Rules carry "topocni:<owner>" comments
// (kinds/nat); the table and its two chains carry the comment kOwnerComment (NFTA_TABLE_USERDATA,
// NFTA_CHAIN_USERDATA, in nft's comment encoding: `nft list table inet topocni` shows it). A table or chain
// without it is someone else's: topocni adds rules to a chain of theirs only if the chain is defined exactly
// as topocni would define it (a nat base chain on the same hook and priority: a rule in an unhooked chain
// never runs), and never deletes it.
//
// Tables from before the comment existed (and kernels older than 5.13, which drop the userdata of tables
// silently): a table without any comment counts as topocni's when it holds nothing but topocni's two chains,
// each defined as topocni defines it: what every earlier release made.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace topo::nft {

inline constexpr std::string_view kOwnerComment = "managed by topocni";

// The userdata bytes of a table or chain comment `text` (nftnl_udata, type 0: table and chain comments share
// it).
std::string comment_userdata(std::string_view text);

// The comment in a table's or chain's userdata; nullopt when there is none (no userdata, or no comment in
// it).
std::optional<std::string> comment_of_userdata(const void* data, uint32_t len);

}  // namespace topo::nft

// Ownership marks: how topocni recognises its own objects in the kernel. One policy for every kind, spelled
// once here; each kind's unit says which of these marks its objects carry (KindOps<K>::stamp / owned):
//   link     IFLA_IFALIAS "topocni:<owner>"
//   address  IFA_PROTO 157;  route rtm_protocol 157;  rule FRA_PROTOCOL 157
//   nat      the nftables rule comment "topocni:<owner>", in table inet topocni
//   sysctl   none: sysctls are restored on DEL, never deleted
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace topo {

// The routing protocol number that marks routes, rules and addresses as topocni's (rtm_protocol /
// FRA_PROTOCOL / IFA_PROTO). 99 is iproute2's "openr"; 157 is unassigned in /etc/iproute2/rt_protos.
inline constexpr uint8_t kOwnerProtocol = 157;

// The prefix of every text mark (link alias, nftables comment), followed by the owner.
inline constexpr std::string_view kOwnerPrefix = "topocni:";

// The owner of one attachment, as written into text marks: the attachment id, hashed when it is too long for
// nft's 128-byte comments and IFALIASZ (see lifecycle/ownership.cpp).
struct OwnerMark {
  std::string owner;
  std::string text() const { return std::string(kOwnerPrefix) + owner; }  // the alias or comment
};

inline bool is_owner_protocol(uint8_t protocol) { return protocol == kOwnerProtocol; }
inline bool is_owner_text(std::string_view mark) { return mark.starts_with(kOwnerPrefix); }
// The owner in a text mark; nullopt when the mark is not ours.
inline std::optional<std::string> owner_of_text(std::string_view mark) {
  if (!is_owner_text(mark)) return std::nullopt;
  return std::string(mark.substr(kOwnerPrefix.size()));
}

}  // namespace topo

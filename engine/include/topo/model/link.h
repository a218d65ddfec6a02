#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "topo/model/ip.h"
#include "topo/model/mac.h"

namespace topo {

enum class LinkKind : uint8_t {
  Veth,      // a veth pair whose ends may live in two scopes
  Existing,  // someone else's: must exist, is never created or deleted; may have mtu, mac, promisc, allmulti and
             // master changed, which DEL puts back (LinkOrigin)
  Bridge,    // a software bridge; other links join it with `master`
  Macvlan,   // a MAC-addressed child of `parent` (modes: private, vepa, bridge, passthru)
  Ipvlan,    // an IP-addressed child of `parent` (modes l2/l3/l3s, flags bridge/private/vepa)
  Vlan,      // an 802.1Q/802.1ad sub-interface of `parent`
  Vxlan,     // a VXLAN tunnel endpoint (vni, local, remote or group, port, optional `parent` device)
  Vrf,       // an L3 master device bound to a routing table; other links join it with `master`
  Dummy,     // a local-only interface (addresses that must not depend on a physical link)
  HostDevice,  // a node device moved into the pod under `name`, and moved back as it was on DEL; never created
};

// Whether other links may name a link of this kind as their `master`.
constexpr bool can_be_master(LinkKind k) { return k == LinkKind::Bridge || k == LinkKind::Vrf; }
// Whether the kind is a child of a lower device (IFLA_LINK): its `parent` must be given (vxlan: may be).
constexpr bool needs_parent(LinkKind k) {
  return k == LinkKind::Macvlan || k == LinkKind::Ipvlan || k == LinkKind::Vlan;
}

// The numeric values are the kernel's (linux/if_link.h), so the codec passes them through.
enum class MacvlanMode : uint32_t { Private = 1, Vepa = 2, Bridge = 4, Passthru = 8 };  // IFLA_MACVLAN_MODE
enum class IpvlanMode : uint16_t { L2 = 0, L3 = 1, L3s = 2 };                           // IFLA_IPVLAN_MODE
enum class IpvlanFlag : uint16_t { Bridge = 0, Private = 1, Vepa = 2 };                 // IFLA_IPVLAN_FLAGS
enum class VlanProtocol : uint16_t { Dot1Q = 0x8100, Dot1AD = 0x88a8 };                 // IFLA_VLAN_PROTOCOL

// What only one kind has. Unset fields take the kernel's default and are not compared with what it reports.
struct LinkKindData {
  std::optional<MacvlanMode> macvlan_mode;    // IFLA_MACVLAN_MODE (kernel default: vepa)
  std::optional<IpvlanMode> ipvlan_mode;      // IFLA_IPVLAN_MODE (kernel default: l3)
  std::optional<IpvlanFlag> ipvlan_flag;      // IFLA_IPVLAN_FLAGS (kernel default: bridge)
  std::optional<uint16_t> vlan_id;            // IFLA_VLAN_ID, 0..4094 (required for a vlan)
  std::optional<VlanProtocol> vlan_protocol;  // IFLA_VLAN_PROTOCOL (kernel default: 802.1Q)
  std::optional<uint32_t> vrf_table;          // IFLA_VRF_TABLE (required for a vrf)
  std::optional<uint32_t> vni;                // IFLA_VXLAN_ID, 0..2^24-1 (required for a vxlan)
  std::optional<IpAddress> local;             // IFLA_VXLAN_LOCAL / LOCAL6
  std::optional<IpAddress> remote;            // IFLA_VXLAN_GROUP / GROUP6: a unicast remote or a multicast group
  std::optional<uint16_t> port;               // IFLA_VXLAN_PORT (host order here; the kernel's default is 8472)

  bool operator==(const LinkKindData&) const = default;
};

// How a link someone else made was before this attachment changed it: what DEL puts back. Taken when the ADD
// plans the change and journaled before it, so a kill right after the change still leaves DEL knowing it.
//   - host-device: the node device before the move (ifindex, alias, mtu, mac, up);
//   - existing: exactly the attributes the item sets (mtu, mac, promisc, allmulti, master), each unset when the
//     item leaves it alone.
struct LinkOrigin {
  int ifindex{0};                  // asked back on the move home when free (a move into a pod may change it)
  std::string alias;               // IFLA_IFALIAS ("" for none): the move replaces it with our mark
  uint32_t mtu{0};                 // IFLA_MTU (0: not recorded)
  std::optional<MacAddress> mac;   // IFLA_ADDRESS (nullopt for a device without an Ethernet address)
  bool up{false};                  // IFF_UP (a move always takes a device down)
  std::optional<bool> promisc;     // IFF_PROMISC (existing: recorded when the item sets promisc)
  std::optional<bool> allmulti;    // IFF_ALLMULTI (existing: recorded when the item sets allmulti)
  std::optional<std::string> master;  // IFLA_MASTER by name, "" for none (existing: recorded when the item sets master)

  bool operator==(const LinkOrigin&) const = default;
};

struct Link {
  static constexpr std::string_view kName = "link";       // plan text, journal, CHECK
  static constexpr std::string_view kSection = "links";  // template and journal section

  std::string scope;             // namespace scope of this end
  std::string name;              // IFLA_IFNAME
  LinkKind kind{LinkKind::Veth};  // IFLA_INFO_KIND
  std::string peer_scope;        // veth: scope of the other end
  std::string peer_name;         // veth: VETH_INFO_PEER / IFLA_IFNAME
  std::string parent;            // IFLA_LINK: the lower device of a macvlan, ipvlan, vlan or vxlan, by name
  std::string parent_scope;      // the scope `parent` lives in (a pod's macvlan is created on a host device)
  std::optional<uint32_t> mtu;   // IFLA_MTU (the kind's default when unset: veth 1500, a child its parent's)
  std::optional<uint32_t> txqueuelen;  // IFLA_TXQLEN
  std::optional<MacAddress> mac;       // IFLA_ADDRESS
  std::string master;            // IFLA_MASTER: a bridge or vrf in the same scope, by name ("" for none)
  bool up{true};                 // IFF_UP (on both ends of a veth)
  std::optional<bool> promisc;   // IFF_PROMISC as set by the user (not the bridge's own promiscuity)
  std::optional<bool> allmulti;  // IFF_ALLMULTI as set by the user (receive every multicast frame)
  std::optional<bool> hairpin;   // IFLA_BRPORT_MODE of a bridge port: frames may leave by the port they came in
  LinkKindData data;             // IFLA_INFO_DATA
  std::string alias;             // IFLA_IFALIAS: "topocni:<attachment>" marks ownership (set by the engine)
  std::string device;            // host-device: the node device's name in the host scope
  // host-device and a changed existing link: the link as it was (plan_add fills it in through
  // KindOps<Link>::take_origins; not compared: it is what DEL restores, not a property of the link now).
  std::optional<LinkOrigin> origin;

  // Observed only: whether the kernel object carries our alias.
  bool owned{false};
  // Observed only, host-device: found in the node's namespace under its pod name, carrying our mark. The
  // kernel moves a physical device back to the initial namespace when the pod's namespace goes away.
  bool stranded{false};

  auto key() const { return std::tie(scope, name); }
  bool operator==(const Link& o) const {
    return scope == o.scope && name == o.name && kind == o.kind && peer_scope == o.peer_scope &&
           peer_name == o.peer_name && parent == o.parent && parent_scope == o.parent_scope && mtu == o.mtu &&
           txqueuelen == o.txqueuelen && mac == o.mac && master == o.master && up == o.up &&
           promisc == o.promisc && allmulti == o.allmulti && hairpin == o.hairpin && data == o.data && alias == o.alias && device == o.device;
  }
};

// Whether an existing link's item changes something on it (else it is a reference only: it must exist).
inline bool changes_existing(const Link& l) {
  return l.kind == LinkKind::Existing && (l.mtu || l.mac || l.promisc || l.allmulti || !l.master.empty());
}

// iproute2's word for a kind ("veth", "macvlan"...): IFLA_INFO_KIND, and the template's `kind:`.
std::string_view link_kind_name(LinkKind k);
// The kind a kernel's IFLA_INFO_KIND names; nullopt for a kind topocni does not create (tun, bond...).
std::optional<LinkKind> link_kind_of(std::string_view kernel_kind);

// The name a link other than a veth has while it is being created: "tp" and 12 hex digits of a hash of its
// owner mark, scope and name. Its creation request cannot carry the ownership alias (rtnl_newlink ignores
// IFLA_IFALIAS there); one later request renames it, marks it and brings it up, so a link found under this name
// is one whose creation a kill interrupted, and the journal that names the link vouches for it.
std::string creation_name(const Link& l);

// Defined by the kind's unit (engine/src/kinds/link/): one line of plan text, and the journal's JSON form.
std::string describe(const Link& v);
void to_json(nlohmann::json& j, const Link& v);
void from_json(const nlohmann::json& j, Link& v);

}  // namespace topo

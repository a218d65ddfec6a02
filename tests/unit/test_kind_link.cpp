// The link kinds: their create requests byte for byte against what `ip link add` sends (captured with
// strace on this machine; the kernel here lacks vlan, vrf, ipvlan and dummy, but iproute2 sends the request
// anyway), replies decoded back, template items and their errors with positions, journal JSON, plan text,
// and the diff's dependency order.
#include <doctest/doctest.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include <fmt/format.h>

#include "kinds/link/link_codec.h"
#include "template_fakes.h"
#include "topo/diff.h"
#include "topo/error.h"
#include "topo/model/json.h"
#include "topo/template/template.h"

using nlohmann::json;
using namespace topo;

namespace {

// libmnl marks nested attributes with NLA_F_NESTED (strict validation wants it on newer attributes); iproute2
// 6.1 does not. The kernel accepts both. Cleared here, so the rest is compared byte for byte.
void clear_nested_flags(uint8_t* p, size_t len) {
  while (len >= sizeof(nlattr)) {
    auto* a = reinterpret_cast<nlattr*>(p);
    if (a->nla_len < sizeof(nlattr) || a->nla_len > len) return;
    if (a->nla_type & NLA_F_NESTED) {
      a->nla_type &= ~NLA_F_NESTED;
      clear_nested_flags(p + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
    }
    size_t step = NLA_ALIGN(a->nla_len);
    if (step >= len) return;
    p += step;
    len -= step;
  }
}

// The payload of a request (what follows the nlmsghdr), as "\x.." text like strace -xx prints it.
std::string payload_hex(nlmsghdr* nlh) {
  auto* p = reinterpret_cast<uint8_t*>(nlh) + sizeof(nlmsghdr);
  size_t len = nlh->nlmsg_len - sizeof(nlmsghdr);
  clear_nested_flags(p + sizeof(ifinfomsg), len - sizeof(ifinfomsg));
  std::string out;
  for (size_t i = 0; i < len; ++i) out += fmt::format("\\x{:02x}", p[i]);
  return out;
}

std::string create_request(const Link& l, int parent_ifindex) {
  netlink::Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  netlink::LinkPlacement where;
  where.parent_ifindex = parent_ifindex;
  netlink::encode_link_create(m.builder(), l, where);
  return payload_hex(m.msg());
}

Link link(const char* name, LinkKind kind) {
  Link l;
  l.scope = "host";
  l.name = name;
  l.kind = kind;
  l.up = false;  // `ip link add` leaves a new link down: ifinfomsg all zero
  return l;
}

Rendered render(const std::string& yaml) {
  Template t = Template::load({"t", "t.yaml", yaml});
  return t.render({});
}

// The message of the SpecError rendering `yaml` throws, with its position.
std::string error_of(const std::string& yaml) {
  try {
    render(yaml);
  } catch (const SpecError& e) {
    return fmt::format("{}:{}: {}: {}", e.line, e.column, e.path, e.message);
  }
  return "no error";
}

}  // namespace

// Captured: strace -e trace=sendmsg -xx ip -n <ns> link add ... (iproute2 6.1, Debian 12), device p0 = ifindex 3.
TEST_CASE("link codec: create requests are byte for byte what ip link add sends") {
  SUBCASE("ip link add v10 link p0 type vlan id 10") {
    Link l = link("v10", LinkKind::Vlan);
    l.data.vlan_id = 10;
    CHECK(create_request(l, 3) ==
          "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x08\\x00\\x05\\x00\\x03\\x00"
          "\\x00\\x00\\x08\\x00\\x03\\x00\\x76\\x31\\x30\\x00\\x18\\x00\\x12\\x00\\x08\\x00\\x01\\x00\\x76\\x6c\\x61\\x6e"
          "\\x0c\\x00\\x02\\x00\\x06\\x00\\x01\\x00\\x0a\\x00\\x00\\x00");
  }
  SUBCASE("ip link add v11 link p0 type vlan proto 802.1ad id 11") {
    Link l = link("v11", LinkKind::Vlan);
    l.data.vlan_id = 11;
    l.data.vlan_protocol = VlanProtocol::Dot1AD;
    CHECK(create_request(l, 3) ==
          "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x08\\x00\\x05\\x00\\x03\\x00"
          "\\x00\\x00\\x08\\x00\\x03\\x00\\x76\\x31\\x31\\x00\\x20\\x00\\x12\\x00\\x08\\x00\\x01\\x00\\x76\\x6c\\x61\\x6e"
          "\\x14\\x00\\x02\\x00\\x06\\x00\\x05\\x00\\x88\\xa8\\x00\\x00\\x06\\x00\\x01\\x00\\x0b\\x00\\x00\\x00");
  }
  SUBCASE("ip link add vrf1 type vrf table 100") {
    Link l = link("vrf1", LinkKind::Vrf);
    l.data.vrf_table = 100;
    CHECK(create_request(l, 0) ==
          "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x09\\x00\\x03\\x00\\x76\\x72"
          "\\x66\\x31\\x00\\x00\\x00\\x00\\x18\\x00\\x12\\x00\\x07\\x00\\x01\\x00\\x76\\x72\\x66\\x00\\x0c\\x00\\x02\\x00"
          "\\x08\\x00\\x01\\x00\\x64\\x00\\x00\\x00");
  }
  SUBCASE("ip link add ipv0 link p0 type ipvlan mode l3") {
    Link l = link("ipv0", LinkKind::Ipvlan);
    l.data.ipvlan_mode = IpvlanMode::L3;
    CHECK(create_request(l, 3) ==
          "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x08\\x00\\x05\\x00\\x03\\x00"
          "\\x00\\x00\\x09\\x00\\x03\\x00\\x69\\x70\\x76\\x30\\x00\\x00\\x00\\x00\\x24\\x00\\x12\\x00\\x0a\\x00\\x01\\x00"
          "\\x69\\x70\\x76\\x6c\\x61\\x6e\\x00\\x00\\x14\\x00\\x02\\x00\\x06\\x00\\x01\\x00\\x01\\x00\\x00\\x00\\x06\\x00"
          "\\x02\\x00\\x00\\x00\\x00\\x00");
  }
  SUBCASE("ip link add dm0 type dummy") {
    CHECK(create_request(link("dm0", LinkKind::Dummy), 0) ==
          "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x08\\x00\\x03\\x00\\x64\\x6d"
          "\\x30\\x00\\x10\\x00\\x12\\x00\\x09\\x00\\x01\\x00\\x64\\x75\\x6d\\x6d\\x79\\x00\\x00\\x00");
  }
  SUBCASE("ip link add mv0 link p0 type macvlan mode bridge") {
    Link l = link("mv0", LinkKind::Macvlan);
    l.data.macvlan_mode = MacvlanMode::Bridge;
    CHECK(create_request(l, 3) ==
          "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x08\\x00\\x05\\x00\\x03\\x00"
          "\\x00\\x00\\x08\\x00\\x03\\x00\\x6d\\x76\\x30\\x00\\x1c\\x00\\x12\\x00\\x0b\\x00\\x01\\x00\\x6d\\x61\\x63\\x76"
          "\\x6c\\x61\\x6e\\x00\\x0c\\x00\\x02\\x00\\x08\\x00\\x01\\x00\\x04\\x00\\x00\\x00");
  }
  SUBCASE("ip link add br0 type bridge") {
    CHECK(create_request(link("br0", LinkKind::Bridge), 0) ==
          "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x08\\x00\\x03\\x00\\x62\\x72"
          "\\x30\\x00\\x10\\x00\\x12\\x00\\x0a\\x00\\x01\\x00\\x62\\x72\\x69\\x64\\x67\\x65\\x00\\x00");
  }
}

TEST_CASE("link codec: what a create request says decodes back from a reply of the same shape") {
  // The kernel's RTM_NEWLINK replies carry IFLA_LINKINFO with the same IFLA_INFO_DATA attributes.
  auto round_trip = [](const Link& l, int parent) {
    netlink::Message m(RTM_NEWLINK, 0);
    netlink::LinkPlacement where;
    where.parent_ifindex = parent;
    netlink::encode_link_create(m.builder(), l, where);
    auto got = netlink::decode_link(*m.msg());
    REQUIRE(got);
    return *got;
  };
  Link vlan = link("v10", LinkKind::Vlan);
  vlan.data.vlan_id = 4094;
  vlan.data.vlan_protocol = VlanProtocol::Dot1AD;
  vlan.mtu = 1496;
  vlan.txqueuelen = 500;
  vlan.mac = MacAddress::parse("02:00:00:aa:bb:cc");
  auto v = round_trip(vlan, 7);
  CHECK(v.kind == "vlan");
  CHECK(v.link == 7);
  CHECK(v.data == vlan.data);
  CHECK(v.mtu == 1496);
  CHECK(v.txqueuelen == 500);
  CHECK(v.mac == "02:00:00:aa:bb:cc");

  Link vx = link("vx0", LinkKind::Vxlan);
  vx.data.vni = 0xFFFFFF;
  vx.data.local = IpAddress::parse("fd00::1");
  vx.data.remote = IpAddress::parse("ff05::42");
  vx.data.port = 4789;
  CHECK(round_trip(vx, 0).data == vx.data);

  Link ipv = link("ipv0", LinkKind::Ipvlan);
  ipv.data.ipvlan_mode = IpvlanMode::L2;
  ipv.data.ipvlan_flag = IpvlanFlag::Private;
  CHECK(round_trip(ipv, 3).data == ipv.data);

  Link vrf = link("vrf1", LinkKind::Vrf);
  vrf.data.vrf_table = 1001;
  CHECK(round_trip(vrf, 0).data == vrf.data);
}

TEST_CASE("link templates: a bridge, its ports and children render with every attribute") {
  auto r = render(R"(
host:
  links:
    - {name: br0, kind: bridge, mtu: 1450, mac: "02:00:00:00:00:01", txqueuelen: 2000}
    - {name: vh0, peer: {name: eth0}, master: br0, hairpin: true, promisc: false}
    - {name: vx0, kind: vxlan, vni: 42, local: 10.0.0.1, group: 239.1.1.1, port: 4789, parent: {name: uplink}}
    - {name: vrf-blue, kind: vrf, table: 100}
    - {name: v10, kind: vlan, parent: {name: uplink}, id: 10, protocol: 802.1ad, master: vrf-blue}
    - {name: dm0, kind: dummy, up: false}
container:
  links:
    - {name: net1, kind: macvlan, parent: {name: uplink}, mode: bridge}
    - {name: net2, kind: ipvlan, parent: {name: uplink}, mode: l3s, flag: private}
)");
  const auto& links = r.state.of<Link>();
  REQUIRE(links.size() == 8);
  CHECK(describe(links[0]) == "link br0 type bridge mtu 1450 txqueuelen 2000 address 02:00:00:00:00:01");
  CHECK(describe(links[1]) == "link vh0 type veth peer eth0 in container master br0 hairpin on promisc off");
  CHECK(describe(links[2]) == "link vx0 link uplink type vxlan id 42 local 10.0.0.1 group 239.1.1.1 dstport 4789");
  CHECK(describe(links[3]) == "link vrf-blue type vrf table 100");
  CHECK(describe(links[4]) == "link v10 link uplink type vlan protocol 802.1ad id 10 master vrf-blue");
  CHECK(describe(links[5]) == "link dm0 type dummy down");
  CHECK(describe(links[6]) == "link net1 link uplink in host type macvlan mode bridge");
  CHECK(describe(links[7]) == "link net2 link uplink in host type ipvlan mode l3s private");
  CHECK(links[6].scope == "container");
  CHECK(links[6].parent_scope == "host");

  SUBCASE("every one survives the journal's JSON") {
    for (const Link& l : links) {
      json j = l;
      CHECK(j.get<Link>() == l);
    }
  }
  SUBCASE("a journal naming a kind this binary does not know is refused, not read as another kind") {
    json j = links[0];
    j["kind"] = "wireguard";
    CHECK_THROWS(j.get<Link>());
  }
}

TEST_CASE("link template errors name the file position and the key") {
  CHECK(error_of("host:\n  links:\n    - {name: br0, kind: bridge, id: 10}\n") ==
        "3:37: host.links[0].id: 'id' is not an attribute of a bridge link (only of: vlan)");
  CHECK(error_of("host:\n  links:\n    - {name: v1, kind: vlan, parent: {name: eth0}, id: 4095}\n") ==
        "3:56: host.links[0].id: expected an int from 0 to 4094, found 4095");
  CHECK(error_of("host:\n  links:\n    - {name: v1, kind: vlan, parent: {name: eth0}}\n") ==
        "3:7: host.links[0].id: a vlan link needs an id (0 to 4094)");
  CHECK(error_of("host:\n  links:\n    - {name: m1, kind: macvlan}\n") ==
        "3:7: host.links[0].parent: a macvlan link needs a parent: {name: <device>, scope: host|container}");
  CHECK(error_of("host:\n  links:\n    - {name: b1, kind: bridge, mac: 02:00:00:00:00}\n") ==
        "3:37: host.links[0].mac: '02:00:00:00:00' is not a MAC address (six hex pairs: aa:bb:cc:dd:ee:ff)");
  CHECK(error_of("host:\n  links:\n    - {name: b1, kind: bridge, mac: \"01:00:5e:00:00:01\"}\n") ==
        "3:37: host.links[0].mac: 01:00:5e:00:00:01 is a multicast or zero address; an interface or a neighbour "
        "needs a unicast one");
  CHECK(error_of("host:\n  links:\n    - {name: x1, kind: wireguard}\n").find(
            "host.links[0].kind: expected one of veth, existing, bridge, macvlan") != std::string::npos);
  CHECK(error_of("host:\n  links:\n    - {name: v1, peer: {name: e0}, hairpin: true}\n") ==
        "3:45: host.links[0].hairpin: hairpin is a bridge port's setting: give the link a master bridge");
  CHECK(error_of("host:\n  links:\n    - {name: x1, kind: vxlan, vni: 1, remote: 239.1.1.1}\n") ==
        "3:47: host.links[0].remote: 239.1.1.1 is a multicast address: write it as `group`");
  CHECK(error_of("host:\n  links:\n    - {name: x1, kind: vxlan, vni: 1, local: 10.0.0.1, remote: \"fd00::2\"}\n") ==
        "3:64: host.links[0].remote: the local and remote addresses of a vxlan link are of different families");
  CHECK(error_of("host:\n  links:\n    - {name: eth0, kind: existing, txqueuelen: 1400}\n") ==
        "3:48: host.links[0].txqueuelen: 'txqueuelen' cannot be set on a link of kind existing: only mtu, mac, master, "
        "promisc and allmulti can (DEL puts them back)");
  CHECK(error_of("host:\n  links:\n    - {name: x1, kind: bridge, colour: red}\n").find("colour") != std::string::npos);
}

TEST_CASE("diff: a master and a parent are created before the links that need them, and deleted after") {
  auto r = render(R"(
host:
  links:
    - {name: a-port, peer: {name: eth0}, master: z-br}
    - {name: m-child, kind: macvlan, parent: {name: z-br, scope: host}}
    - {name: z-br, kind: bridge}
)");
  Plan p = diff(r.state, State{});
  REQUIRE(p.changes.size() == 3);
  CHECK(std::get<Link>(p.changes[0].object).name == "z-br");
  Plan d = diff_destroy(r.state, [&] {
    State observed = r.state;
    for (Link& l : observed.of<Link>()) l.owned = true;
    return observed;
  }(), State{});
  REQUIRE(d.changes.size() == 3);
  CHECK(std::get<Link>(d.changes[2].object).name == "z-br");

  SUBCASE("a master the template makes must be a bridge or vrf") {
    auto bad = render("host:\n  links:\n    - {name: a, peer: {name: e0}, master: b}\n    - {name: b, kind: dummy}\n");
    CHECK_THROWS_WITH_AS(diff(bad.state, State{}), doctest::Contains("master 'b' is a dummy link, not a bridge or vrf"),
                         ConflictError);
  }
  SUBCASE("links that name each other in a circle are refused") {
    auto bad = render("host:\n  links:\n    - {name: a, kind: bridge, master: b}\n    - {name: b, kind: bridge, master: a}\n");
    CHECK_THROWS_AS(diff(bad.state, State{}), ConflictError);
  }
}

TEST_CASE("host-device: template, plan text, journal JSON and the move request") {
  auto r = render("container:\n  links:\n    - {name: net1, kind: host-device, device: enp3s0f1, mtu: 9000}\n");
  const auto& links = r.state.of<Link>();
  REQUIRE(links.size() == 1);
  CHECK(describe(links[0]) == "link net1 type host-device device enp3s0f1 mtu 9000");
  CHECK(links[0].scope == "container");

  SUBCASE("the journal keeps the device and how it was") {
    Link l = links[0];
    l.origin = LinkOrigin{7, "rack 4 spare", 1500, MacAddress::parse("02:00:00:00:00:07"), true};
    json j = l;
    CHECK(j["device"] == "enp3s0f1");
    CHECK(j["origin"] == json{{"ifindex", 7}, {"alias", "rack 4 spare"}, {"mtu", 1500}, {"up", true}, {"mac", "02:00:00:00:00:07"}});
    Link back = j.get<Link>();
    CHECK(back == l);
    REQUIRE(back.origin);
    CHECK(*back.origin == *l.origin);
    j["origin"]["mac"] = "02:00";
    CHECK_THROWS(j.get<Link>());
  }
  SUBCASE("the origin is what DEL restores, not a property to converge on") {
    Link with = links[0], without = links[0];
    with.origin = LinkOrigin{};
    CHECK(with == without);
    without.device = "enp3s0f0";
    CHECK_FALSE(with == without);
  }
  SUBCASE("errors name the position and the key") {
    CHECK(error_of("host:\n  links:\n    - {name: net1, kind: host-device, device: eth1}\n") ==
          "3:26: host.links[0].kind: a host-device link moves a node device into the pod: declare it in the container "
          "scope");
    CHECK(error_of("container:\n  links:\n    - {name: net1, kind: host-device}\n") ==
          "3:7: container.links[0].device: a host-device link needs the node device to move: device: <name>");
    CHECK(error_of("container:\n  links:\n    - {name: net1, kind: host-device, device: eth1, peer: {name: x}}\n") ==
          "3:59: container.links[0].peer: 'peer' is not an attribute of a host-device link (only of: veth)");
    CHECK(error_of("container:\n  links:\n    - {name: net1, kind: veth, peer: {name: x}, device: eth1}\n")
              .find("'device' is not an attribute of a veth link (only of: host-device)") != std::string::npos);
    CHECK(error_of("container:\n  links:\n    - {name: net1, kind: host-device, device: \"eth/1\"}\n").find("device") !=
          std::string::npos);
  }
}

// Captured: strace -e trace=sendmsg ip link set dev p0 netns <ns> name net1 (iproute2 6.1): p0 = ifindex 3, and
// the namespace's fd was 4.
TEST_CASE("link codec: a move is what ip link set dev p0 netns NS name net1 sends") {
  netlink::Message m(RTM_NEWLINK, 0);
  std::string name = "net1";
  netlink::LinkSettings s;
  s.netns_fd = 4;
  s.name = &name;
  netlink::encode_link_set(m.builder(), 3, s);
  CHECK(m.msg()->nlmsg_len == 52);
  CHECK(payload_hex(m.msg()) ==
        "\\x00\\x00\\x00\\x00\\x03\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"  // ifinfomsg, index 3
        "\\x08\\x00\\x1c\\x00\\x04\\x00\\x00\\x00"                                          // IFLA_NET_NS_FD 4
        "\\x09\\x00\\x03\\x00\\x6e\\x65\\x74\\x31\\x00\\x00\\x00\\x00");                    // IFLA_IFNAME net1
}

// Captured: strace -e trace=sendmsg -xx ip link set dev p0 allmulticast on master br0 (iproute2 6.1): p0 = ifindex 3,
// br0 = 4; then `allmulticast off nomaster`. The tuning template sets allmulti on a link someone else made, and the
// vrf template enslaves one.
TEST_CASE("link codec: allmulticast and master on an existing link are what ip link set sends") {
  auto request = [](const netlink::LinkSettings& s) {
    netlink::Message m(RTM_NEWLINK, 0);
    netlink::encode_link_set(m.builder(), 3, s);
    return payload_hex(m.msg());
  };
  netlink::LinkSettings on;
  on.allmulti = true;
  on.master = 4;
  CHECK(request(on) ==
        "\\x00\\x00\\x00\\x00\\x03\\x00\\x00\\x00\\x00\\x02\\x00\\x00\\x00\\x02\\x00\\x00"  // flags and change IFF_ALLMULTI
        "\\x08\\x00\\x0a\\x00\\x04\\x00\\x00\\x00");                                    // IFLA_MASTER 4
  netlink::LinkSettings off;
  off.allmulti = false;
  off.master = 0;
  CHECK(request(off) ==
        "\\x00\\x00\\x00\\x00\\x03\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x00"  // change IFF_ALLMULTI, flag clear
        "\\x08\\x00\\x0a\\x00\\x00\\x00\\x00\\x00");                                    // IFLA_MASTER 0: nomaster
  CHECK_FALSE(off.empty());
}

TEST_CASE("existing link: what the item changes, plan text, journal JSON with its origin, diff and restore") {
  auto r = render(
      "container:\n  links:\n    - {name: eth0, kind: existing, mtu: 9000, mac: \"02:00:00:00:00:09\", promisc: true, "
      "allmulti: false, master: vrf0}\n");
  const auto& links = r.state.of<Link>();
  REQUIRE(links.size() == 1);
  const Link& want = links[0];
  CHECK(changes_existing(want));
  CHECK(describe(want) == "link eth0 (existing) mtu 9000 address 02:00:00:00:00:09 master vrf0 promisc on allmulticast off");
  CHECK_FALSE(changes_existing(render("container:\n  links:\n    - {name: eth0, kind: existing}\n").state.of<Link>()[0]));

  SUBCASE("the journal keeps the attributes it set and how each was") {
    Link l = want;
    l.origin = LinkOrigin{};
    l.origin->mtu = 1500;
    l.origin->mac = MacAddress::parse("02:00:00:00:00:01");
    l.origin->promisc = false;
    l.origin->allmulti = true;
    l.origin->master = "";
    json j = l;
    CHECK(j["allmulti"] == false);
    CHECK(j["origin"]["promisc"] == false);
    CHECK(j["origin"]["allmulti"] == true);
    CHECK(j["origin"]["master"] == "");
    Link back = j.get<Link>();
    CHECK(back == l);
    REQUIRE(back.origin);
    CHECK(*back.origin == *l.origin);
  }

  Link seen = want;  // as observe() reports it: kind existing, only the asked attributes, nobody's alias
  seen.mtu = 1500;
  seen.mac = MacAddress::parse("02:00:00:00:00:01");
  seen.promisc = false;
  seen.allmulti = true;
  seen.master = "";
  State desired, observed;
  desired.of<Link>().push_back(want);
  observed.of<Link>().push_back(seen);

  SUBCASE("ADD changes it in place; once changed, nothing is planned") {
    Plan p = diff(desired, observed);
    REQUIRE(p.changes.size() == 1);
    CHECK(p.changes[0].action == Action::Replace);
    CHECK(std::get<Link>(*p.changes[0].previous) == seen);
    CHECK(diff(desired, desired).empty());
  }
  SUBCASE("DEL puts back each attribute it set, never deletes the link") {
    Link journaled = want;
    journaled.origin = LinkOrigin{};
    journaled.origin->mtu = 1500;
    journaled.origin->mac = seen.mac;
    journaled.origin->promisc = false;
    journaled.origin->allmulti = true;
    journaled.origin->master = "";
    State j;
    j.of<Link>().push_back(journaled);
    Plan p = diff_destroy(j, desired, {});
    REQUIRE(p.changes.size() == 1);
    CHECK(p.changes[0].action == Action::Replace);
    CHECK(std::get<Link>(p.changes[0].object) == seen);

    // An attribute someone changed after ADD is theirs now: only the others come back.
    State later = desired;
    later.of<Link>()[0].mtu = 1400;
    Plan q = diff_destroy(j, later, {});
    REQUIRE(q.changes.size() == 1);
    Link expect = seen;
    expect.mtu = 1400;
    CHECK(std::get<Link>(q.changes[0].object) == expect);

    // Already as it was (or the pod's namespace gone): nothing to do.
    CHECK(diff_destroy(j, observed, {}).empty());
    CHECK(diff_destroy(j, State{}, {}).empty());
  }
  SUBCASE("a link that is not there is refused by name") {
    CHECK_THROWS_WITH_AS(diff(desired, State{}), "interface 'eth0' does not exist in namespace 'container'", ConflictError);
  }
}

// Templates: YAML files that declare parameters and the objects they want; rendering turns one into a State.
// The format is documented in docs/templates.md.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/model/state.h"

namespace topo {

struct CompiledTemplate;  // a built-in's YAML tree, parsed at build time (engine/src/template/compiled.h)

struct TemplateSource {
  std::string name;  // template name: the file's stem ("veth-to-host")
  std::string file;  // path for messages; "<builtin>/veth-to-host.yaml" for compiled-in ones
  std::string text;  // YAML
  bool builtin{false};
  // Set for built-ins: Template::load reads its node table in place instead of parsing `text` (the same tree).
  const CompiledTemplate* compiled{nullptr};
};

// Whether `name` can name a template (or fragment) file: not empty, no '/' or NUL, not starting with '.'. A
// name becomes part of a path, and must not leave the search directory.
bool valid_template_name(std::string_view name);

// Finds templates: each directory in `search_dirs` in order (file NAME.yaml), then the compiled-in ones.
class TemplateLibrary {
 public:
  explicit TemplateLibrary(std::vector<std::string> search_dirs);
  std::optional<TemplateSource> find(const std::string& name) const;
  // A fragment (a piece of template that templates `include:`): DIR/fragments/NAME.yaml in each search
  // directory in order. There are no compiled-in fragments.
  std::optional<TemplateSource> find_fragment(const std::string& name) const;
  // All templates, the winning one per name first, shadowed ones after it.
  std::vector<TemplateSource> list() const;

 private:
  std::vector<std::string> dirs_;
};

// Host facts a template may look up; the plugin answers from the kernel, unit tests from a map.
class HostFacts {
 public:
  virtual ~HostFacts() = default;
  // "ip/len" of every global-scope address on the host interface; throws ConflictError if it does not exist.
  virtual std::vector<std::string> addresses(const std::string& ifname) = 0;
  // The source address the host would use toward `ip` (as "ip route get" reports it); nullopt when the host
  // has no route there or picks no source.
  virtual std::optional<std::string> source_toward(const std::string& ip);
  // The interface of the host's default route for IPv4 or IPv6 (the lowest metric in the main table);
  // nullopt when there is none.
  virtual std::optional<std::string> default_interface(Family family);
  // A host interface as host_link() shows it to a template (name, kind, mtu, mac, up); nullopt when there is
  // no interface of that name.
  virtual std::optional<nlohmann::json> link(const std::string& ifname);
  // A host sysctl's value ("net.ipv6.conf.all.forwarding"); nullopt when it does not exist.
  virtual std::optional<std::string> sysctl(const std::string& name);
  // Whether the host's kernel can create links of `kind`.
  virtual bool supports_link_kind(const std::string& kind);
  // All but addresses() default to throwing ConflictError: a provider that cannot answer says so instead of guessing.
  // Rendering reports any ConflictError from a lookup as a HostFactError at the scalar that asked.
};

// The object host_link() gives a template: {name, kind, mtu, mac, up}.
nlohmann::json host_link_fact(const std::string& name, const std::string& kind, uint32_t mtu, const std::string& mac,
                              bool up);

// Where an allocated table must be free (docs/templates.md#allocate).
enum class AllocScope {
  Node,       // no other attachment on the node holds it, and the node's kernel shows it unused
  Container,  // the pod's kernel shows it unused (no rule points to it, no route is in it)
};
// Which free table is taken.
enum class AllocPick {
  Spread,  // the first free one from a start chosen by hashing the attachment: usually the first probe
  Lowest,  // the lowest free one (what tools that scan from the bottom, like the sbr plugin, pick)
};

struct TableRequest {
  std::string name;  // the allocation's name in the template
  uint32_t low{0}, high{0};
  AllocScope scope{AllocScope::Node};
  AllocPick pick{AllocPick::Spread};
};

// Allocated values (policy-routing table ids) for one render of one attachment.
class Allocator {
 public:
  virtual ~Allocator() = default;
  // `count` distinct tables for the allocation `request.name` (1 for a single table, one per item for an
  // allocation with `for:`). An allocator also keeps the tables of one render apart from each other.
  virtual std::vector<uint32_t> tables(const TableRequest& request, size_t count) = 0;
};

struct RenderContext {
  nlohmann::json config;  // the plugin's network config (parameters are read from its keys)
  nlohmann::json cni;     // {"containerId","ifname","netns","network","command","attachment"}
  nlohmann::json prev;    // prevResult (normalised: see docs/templates.md), or null
  HostFacts* facts{nullptr};
  Allocator* allocator{nullptr};
  // What the template reads as `ipam` (an IPAM result, CNI 1.x form), or null. Last, so that the positional
  // initialisers in use stay valid.
  nlohmann::json ipam = nullptr;
};

// The template key of node-wide objects: created by the first attachment that declares them, kept while
// any attachment uses them, removed with the last (topo/shared_objects.h).
inline constexpr const char* kSharedSection = "shared";

struct Rendered {
  State state;                // scopes "host" / "container"; ownership marks not yet set
  State shared;               // the `shared:` section's objects, in the host scope; marks not yet set
  nlohmann::json params;      // parameter values after defaults and type checks
  nlohmann::json allocations;  // name -> value, as used
  // The `result:` section rendered (template/result.h has its shape); null when the template declares none.
  nlohmann::json result;
};

class Template {
 public:
  // Parses and checks the structure (unknown keys, wrong types, bad parameter declarations); throws
  // SpecError with file, line, column and path.
  // `library` resolves the template's `include:`s; without one, a template that includes is an error.
  static Template load(const TemplateSource& source, const TemplateLibrary* library = nullptr);
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  const std::string& name() const;
  const std::string& file() const;
  // Top-level `ipam: true`: the template reads the `ipam` root, which the caller fills in (from an IPAM
  // plugin) before rendering; rendering without it, except for DEL, is an error naming `ipam.type`.
  bool declares_ipam() const;
  // A `result:` section: the template says what its caller's result is.
  bool declares_result() const;

  // Renders the objects; every error (a missing reference, a value of the wrong type, a parameter check)
  // is a SpecError pointing at the template line (or, for parameter values, at the config key).
  Rendered render(const RenderContext& ctx) const;

 private:
  Template();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace topo

#include "template/compiled.h"

#include <stdexcept>

namespace topo::tmpl {

namespace {

// yaml-cpp keeps a node's mark private to its parser (NodeBuilder is a friend of YAML::Node); the setter
// on the node itself (detail::node::set_mark) is public. An explicit instantiation may name a private
// member ([temp.spec.general]), which is how this reaches YAML::Node::m_pNode without redefining any of
// yaml-cpp's classes. If yaml-cpp renames the member, this stops compiling rather than misbehaving.
struct NodePointer {
  using type = YAML::detail::node* YAML::Node::*;
  friend type member(NodePointer);
};
template <typename Tag, typename Tag::type M>
struct Expose {
  friend typename Tag::type member(Tag) { return M; }
};
template struct Expose<NodePointer, &YAML::Node::m_pNode>;

void set_mark(YAML::Node& node, const CompiledNode& c) {
  YAML::Mark mark;
  mark.pos = c.pos;
  mark.line = c.line;
  mark.column = c.column;
  (node.*member(NodePointer{}))->set_mark(mark);
}

YAML::Node build(std::span<const CompiledNode> nodes, size_t& next) {
  if (next >= nodes.size()) throw std::logic_error("compiled template: the table ends inside a node");
  const CompiledNode& c = nodes[next++];
  auto type = static_cast<YAML::NodeType::value>(c.type);
  YAML::Node node = type == YAML::NodeType::Scalar ? YAML::Node(std::string(c.scalar)) : YAML::Node(type);
  if (type == YAML::NodeType::Sequence) {
    for (uint32_t i = 0; i < c.size; ++i) node.push_back(build(nodes, next));
  } else if (type == YAML::NodeType::Map) {
    for (uint32_t i = 0; i < c.size; ++i) {
      YAML::Node key = build(nodes, next);
      // force_insert appends the pair as the parser does: no lookup, order and duplicates kept.
      node.force_insert(key, build(nodes, next));
    }
  } else if (type != YAML::NodeType::Scalar && type != YAML::NodeType::Null) {
    throw std::logic_error("compiled template: a node of unknown type");
  }
  node.SetTag(std::string(c.tag));
  node.SetStyle(static_cast<YAML::EmitterStyle::value>(c.style));
  set_mark(node, c);
  return node;
}

}  // namespace

YAML::Node build_tree(std::span<const CompiledNode> nodes) {
  size_t next = 0;
  YAML::Node root = build(nodes, next);
  if (next != nodes.size()) throw std::logic_error("compiled template: nodes left after the tree");
  return root;
}

}  // namespace topo::tmpl

#include "template/tree.h"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace topo::tmpl {

Node Node::operator[](size_t i) const {
  if (!IsSequence() || i >= n_->size) return Node();
  const TreeNode* item = n_ + 1;
  for (size_t k = 0; k < i; ++k) item += item->span;
  return Node(item);
}

void PairIterator::point(const TreeNode* key) {
  if (left_ == 0) {
    pair_ = NodePair{};
    return;
  }
  pair_.first = Node(key);
  pair_.second = Node(key + key->span);
}

PairIterator& PairIterator::operator++() {
  const TreeNode* value = pair_.second.n_;
  --left_;
  point(value + value->span);
  return *this;
}

Node Node::empty_map() {
  static constexpr TreeNode kEmpty{NodeType::Map, 0, -1, -1, -1, 0, 1, "", ""};
  return Node(&kEmpty);
}

namespace {

// The index just past the subtree at `at`, after checking that its span says the same.
size_t subtree_end(std::span<const TreeNode> table, size_t at) {
  if (at >= table.size()) throw std::logic_error("compiled template: the table ends inside a node");
  const TreeNode& n = table[at];
  size_t next = at + 1;
  size_t children = n.type == NodeType::Map ? 2 * static_cast<size_t>(n.size)
                    : n.type == NodeType::Sequence ? n.size
                                                   : 0;
  if (n.type > NodeType::Map) throw std::logic_error("compiled template: a node of unknown type");
  for (size_t i = 0; i < children; ++i) next = subtree_end(table, next);
  if (n.span != next - at) throw std::logic_error("compiled template: a node's span disagrees with its subtree");
  return next;
}

}  // namespace

Node root_of(std::span<const TreeNode> table) {
  if (subtree_end(table, 0) != table.size()) throw std::logic_error("compiled template: nodes left after the tree");
  return Node(table.data());
}

Tree::Tree(const YAML::Node& root) { add(root); }

std::string_view Tree::keep(const std::string& s) {
  if (s.empty()) return {};
  if (s == "?") return "?";  // the tags of plain and quoted scalars: nearly every node has one of the two
  if (s == "!") return "!";
  return strings_.emplace_back(s);
}

void Tree::add(const YAML::Node& node) {
  if (nodes_.size() >= kMaxNodes)
    throw std::length_error("more than " + std::to_string(kMaxNodes) + " nodes (after expanding aliases)");
  const YAML::Mark m = node.Mark();
  size_t at = nodes_.size();
  bool nested = node.IsMap() || node.IsSequence();
  nodes_.push_back(TreeNode{static_cast<NodeType>(node.Type()), static_cast<uint8_t>(node.Style()), m.pos, m.line,
                            m.column, static_cast<uint32_t>(nested ? node.size() : 0), 1, keep(node.Tag()),
                            node.IsScalar() ? keep(node.Scalar()) : std::string_view()});
  if (node.IsSequence())
    for (const YAML::Node& item : node) add(item);
  if (node.IsMap())
    for (auto it = node.begin(); it != node.end(); ++it) add(it->first), add(it->second);
  nodes_[at].span = static_cast<uint32_t>(nodes_.size() - at);
}

}  // namespace topo::tmpl

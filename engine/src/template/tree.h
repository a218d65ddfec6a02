// A template's YAML tree as the engine reads it: one flat, read-only table of nodes in pre-order, and Node,
// a pointer into it. A built-in template's table is generated at build time (engine/gen/compile_templates.cpp)
// and used in place, so loading one builds nothing; a template file is parsed by yaml-cpp once and flattened
// into a Tree (template/parse.h). yaml-cpp's own nodes are shared, reference-counted and merged on every
// insertion, which made rebuilding the flagship's tree cost more than rendering it.
//
// Node's accessors keep yaml-cpp's names (IsMap, Scalar, Mark...), so template code reads as it did against
// yaml-cpp; what differs is that a Node is valid only while its table is (Template keeps it).
#pragma once

#include <cstdint>
#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace topo::tmpl {

// Where a node starts in its file; 0-based, as yaml-cpp keeps it; -1 when unknown.
struct Mark {
  int pos{-1}, line{-1}, column{-1};
  static Mark null_mark() { return Mark{}; }
};

// The values of YAML::NodeType, so a table generated from yaml-cpp's types reads the same.
enum class NodeType : uint8_t { Undefined = 0, Null = 1, Scalar = 2, Sequence = 3, Map = 4 };

// One node. A list's `size` items follow it, each a subtree; a map's `size` pairs follow it, each a key
// subtree then a value subtree. `span` counts the nodes of this node's subtree, itself included, so the next
// sibling is `span` rows on.
struct TreeNode {
  NodeType type;
  uint8_t style;              // YAML::EmitterStyle::value (kept so the compiled tree equals the parsed one)
  int32_t pos, line, column;  // the node's Mark
  uint32_t size;
  uint32_t span;
  std::string_view tag;     // "?" for a plain scalar, "!" for a quoted one, as yaml-cpp's parser sets it
  std::string_view scalar;  // scalars only
};

class PairIterator;

class Node {
 public:
  Node() = default;  // undefined: what find_key answers for a missing key
  explicit Node(const TreeNode* n) : n_(n) {}

  NodeType Type() const { return n_ ? n_->type : NodeType::Undefined; }
  bool IsDefined() const { return n_ != nullptr; }
  bool IsNull() const { return Type() == NodeType::Null; }
  bool IsScalar() const { return Type() == NodeType::Scalar; }
  bool IsSequence() const { return Type() == NodeType::Sequence; }
  bool IsMap() const { return Type() == NodeType::Map; }
  explicit operator bool() const { return IsDefined(); }

  std::string_view Scalar() const { return n_ ? n_->scalar : std::string_view(); }
  std::string_view Tag() const { return n_ ? n_->tag : std::string_view(); }
  uint8_t Style() const { return n_ ? n_->style : 0; }
  tmpl::Mark Mark() const { return n_ ? tmpl::Mark{n_->pos, n_->line, n_->column} : tmpl::Mark{}; }
  // Items of a list, pairs of a map, 0 for anything else.
  size_t size() const { return IsMap() || IsSequence() ? n_->size : 0; }
  // The i-th item of a list (i < size()).
  Node operator[](size_t i) const;

  // A map's pairs, in file order (duplicates kept: check_map refuses them); empty for anything else.
  PairIterator begin() const;
  PairIterator end() const;

  // An empty map that lives forever (a missing section read as "nothing set").
  static Node empty_map();

 private:
  friend class PairIterator;
  const TreeNode* n_{nullptr};
};

struct NodePair {
  Node first, second;
};

class PairIterator {
 public:
  PairIterator(const TreeNode* key, size_t left) : left_(left) { point(key); }
  const NodePair& operator*() const { return pair_; }
  const NodePair* operator->() const { return &pair_; }
  PairIterator& operator++();
  bool operator==(const PairIterator& o) const { return left_ == o.left_; }
  bool operator!=(const PairIterator& o) const { return left_ != o.left_; }

 private:
  void point(const TreeNode* key);
  NodePair pair_;
  size_t left_;
};

inline PairIterator Node::begin() const { return IsMap() ? PairIterator(n_ + 1, n_->size) : PairIterator(nullptr, 0); }
inline PairIterator Node::end() const { return PairIterator(nullptr, 0); }

// The root of a generated table; throws std::logic_error when the table is not one whole tree (sizes and
// spans that disagree), rather than ever reading past its end.
Node root_of(std::span<const TreeNode> table);

// A tree flattened from yaml-cpp's, owning its strings. An alias is copied where it is used; more than
// kMaxNodes nodes (an alias bomb) is refused with std::length_error.
class Tree {
 public:
  static constexpr size_t kMaxNodes = 200000;
  explicit Tree(const YAML::Node& root);
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;
  Node root() const { return Node(nodes_.data()); }
  std::span<const TreeNode> nodes() const { return nodes_; }

 private:
  void add(const YAML::Node& node);
  std::string_view keep(const std::string& s);
  std::vector<TreeNode> nodes_;
  std::deque<std::string> strings_;  // a deque never moves what it holds: the views stay valid
};

}  // namespace topo::tmpl

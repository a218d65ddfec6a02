// The expression language inside `${ ... }` (and bare in `loop:` / `when:`): a parser to a small tree and an
// evaluator over JSON values. No statements, no assignment, no I/O but the function table's HostFacts
// lookups.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace topo {
class HostFacts;
}

namespace topo::tmpl {

using json = nlohmann::json;

// A mistake in an expression: its text or its value. Callers know which YAML scalar it came from and turn it
// into a SpecError there; `offset` is the character in the expression, for messages.
class ExprError : public std::runtime_error {
 public:
  explicit ExprError(const std::string& message, size_t offset = std::string::npos)
      : std::runtime_error(message), offset(offset) {}
  size_t offset;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// One step after a path's root: `.field` or `[expr]`.
struct PathStep {
  std::string field;  // when index is null
  ExprPtr index;
};

struct Expr {
  enum class Kind { Literal, Path, Call, List, Not, And, Or, Eq, Ne, Lt, Le, Gt, Ge, Add, Sub, Mul };
  Kind kind{Kind::Literal};
  json literal;                 // Literal
  std::string name;             // Path: the root; Call: the function
  std::vector<PathStep> steps;  // Path, and a Call's result (host_link('eth0').mtu)
  std::vector<ExprPtr> args;    // Call arguments, List items, operands of the others
  size_t offset{0};             // where it starts in the source text
};

// Parses one whole expression; throws ExprError for syntax errors and for calls to unknown functions or with
// the wrong number of arguments (so those are found when a template is loaded, not when it is rendered).
ExprPtr parse_expression(std::string_view text);

// What an expression may read: the roots (an object: params, cni, prev, vars, alloc and, inside a loop, item
// and index) and the host.
struct EvalEnv {
  const json& roots;
  HostFacts* facts{nullptr};
};

json evaluate(const Expr& e, const EvalEnv& env);

// Ansible's truthiness: null, false, 0, "" and empty lists/objects are false.
bool truthy(const json& v);

// "'eth0' (string)", "5 (int)", "null", "a list of 2", ... for messages.
std::string describe_value(const json& v);

// A scalar with `${ ... }` pieces. `$${` stands for a literal `${`.
struct Interpolation {
  struct Piece {
    std::string text;  // literal text, when expr is null
    ExprPtr expr;
  };
  std::vector<Piece> pieces;

  bool has_expressions() const;
  // Exactly one `${ }` and nothing around it: the value keeps its type.
  bool typed() const { return pieces.size() == 1 && pieces[0].expr; }
};

Interpolation parse_interpolation(std::string_view text);

// A typed value when the scalar is one expression, otherwise the pieces stringified and concatenated
// (strings as they are, ints in decimal, bools as true/false; null, lists and objects are errors).
json render_interpolation(const Interpolation& in, const EvalEnv& env);

}  // namespace topo::tmpl

#include "template/expression.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "template/functions.h"

namespace topo::tmpl {

namespace {

// ---- Lexer -----------------------------------------------------------------------------------------------

struct Token {
  enum class Kind { Ident, String, Int, Punct, End };
  Kind kind{Kind::End};
  std::string text;  // identifier, string contents or punctuation
  int64_t number{0};
  size_t offset{0};
};

// Whether a token can end an operand, so that a '-' after it is the binary operator (`index - 1`, `x-1`,
// `(a)-1`) and not the sign of a literal (`-1`, `== -1`, `[1, -2]`, `not -1`).
bool ends_operand(const std::vector<Token>& out) {
  if (out.empty()) return false;
  const Token& t = out.back();
  switch (t.kind) {
    case Token::Kind::Ident:
      return t.text != "and" && t.text != "or" && t.text != "not";
    case Token::Kind::String:
    case Token::Kind::Int:
      return true;
    case Token::Kind::Punct:
      return t.text == ")" || t.text == "]";
    case Token::Kind::End:
      return false;
  }
  return false;
}

std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    Token t;
    t.offset = i;
    if (i == s.size()) {
      out.push_back(t);
      return out;
    }
    char c = s[i];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      t.kind = Token::Kind::Ident;
      t.text = s.substr(i, j - i);
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
                !ends_operand(out))) {
      size_t j = i + 1;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      t.kind = Token::Kind::Int;
      t.text = s.substr(i, j - i);
      try {
        t.number = std::stoll(t.text);
      } catch (const std::out_of_range&) {
        throw ExprError(fmt::format("integer {} is out of range", t.text), i);
      }
      i = j;
    } else if (c == '\'' || c == '"') {
      size_t j = i + 1;
      std::string text;
      while (j < s.size() && s[j] != c) {
        // A backslash takes the next character literally, so either quote can appear in either kind of
        // string.
        if (s[j] == '\\' && j + 1 < s.size()) ++j;
        text += s[j++];
      }
      if (j == s.size()) throw ExprError("unterminated string", i);
      t.kind = Token::Kind::String;
      t.text = std::move(text);
      i = j + 1;
    } else if ((c == '=' || c == '!' || c == '<' || c == '>') && i + 1 < s.size() && s[i + 1] == '=') {
      t.kind = Token::Kind::Punct;
      t.text = s.substr(i, 2);
      i += 2;
    } else if (std::string_view("|()[],.<>+-*").find(c) != std::string_view::npos) {
      t.kind = Token::Kind::Punct;
      t.text = std::string(1, c);
      ++i;
    } else {
      throw ExprError(fmt::format("unexpected character '{}'", c), i);
    }
    out.push_back(std::move(t));
  }
}

// ---- Parser (recursive descent, one function per grammar rule in docs/templates.md)
// --------------------------

class Parser {
 public:
  explicit Parser(std::string_view text) : tokens_(lex(text)) {}

  ExprPtr parse() {
    auto e = parse_or();
    if (peek().kind != Token::Kind::End) fail_expected("an operator or the end of the expression");
    return e;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool is_punct(const char* p) const { return peek().kind == Token::Kind::Punct && peek().text == p; }
  bool is_keyword(const char* k) const { return peek().kind == Token::Kind::Ident && peek().text == k; }
  bool accept(const char* p) {
    if (!is_punct(p)) return false;
    next();
    return true;
  }
  void expect(const char* p) {
    if (!accept(p)) fail_expected(fmt::format("'{}'", p));
  }
  [[noreturn]] void fail_expected(const std::string& what) const {
    const Token& t = peek();
    std::string found = t.kind == Token::Kind::End      ? "the end of the expression"
                        : t.kind == Token::Kind::String ? fmt::format("string '{}'", t.text)
                                                        : fmt::format("'{}'", t.text);
    throw ExprError(fmt::format("expected {}, found {}", what, found), t.offset);
  }

  static ExprPtr make(Expr::Kind kind, size_t offset) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->offset = offset;
    return e;
  }

  ExprPtr binary(Expr::Kind kind, ExprPtr lhs, ExprPtr rhs) {
    auto e = make(kind, lhs->offset);
    e->args.push_back(std::move(lhs));
    e->args.push_back(std::move(rhs));
    return e;
  }

  ExprPtr parse_or() {
    auto e = parse_and();
    while (is_keyword("or")) {
      next();
      e = binary(Expr::Kind::Or, std::move(e), parse_and());
    }
    return e;
  }

  ExprPtr parse_and() {
    auto e = parse_not();
    while (is_keyword("and")) {
      next();
      e = binary(Expr::Kind::And, std::move(e), parse_not());
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_keyword("not")) {
      auto e = make(Expr::Kind::Not, next().offset);
      e->args.push_back(parse_not());
      return e;
    }
    return parse_cmp();
  }

  // The comparison operator at the current token, if any.
  std::optional<Expr::Kind> comparison() const {
    static const std::pair<const char*, Expr::Kind> ops[] = {{"==", Expr::Kind::Eq}, {"!=", Expr::Kind::Ne},
                                                             {"<", Expr::Kind::Lt},  {"<=", Expr::Kind::Le},
                                                             {">", Expr::Kind::Gt},  {">=", Expr::Kind::Ge}};
    for (auto& [p, kind] : ops)
      if (is_punct(p)) return kind;
    return std::nullopt;
  }

  // Comparisons do not chain: `a < b < c` would compare a bool with c.
  ExprPtr parse_cmp() {
    auto e = parse_sum();
    if (auto kind = comparison()) {
      next();
      e = binary(*kind, std::move(e), parse_sum());
      if (comparison()) fail_expected("no second comparison (use 'and')");
    }
    return e;
  }

  ExprPtr parse_sum() {
    auto e = parse_product();
    while (is_punct("+") || is_punct("-")) {
      auto kind = next().text == "+" ? Expr::Kind::Add : Expr::Kind::Sub;
      e = binary(kind, std::move(e), parse_product());
    }
    return e;
  }

  ExprPtr parse_product() {
    auto e = parse_pipe();
    while (accept("*")) e = binary(Expr::Kind::Mul, std::move(e), parse_pipe());
    return e;
  }

  ExprPtr parse_pipe() {
    auto e = parse_primary();
    while (accept("|")) {
      if (peek().kind != Token::Kind::Ident) fail_expected("a function name after '|'");
      const Token& name = next();
      auto call = make(Expr::Kind::Call, name.offset);
      call->name = name.text;
      call->args.push_back(std::move(e));
      if (accept("(")) parse_args(")", call->args);
      check_call(*call);
      e = std::move(call);
    }
    return e;
  }

  void parse_args(const char* close, std::vector<ExprPtr>& out) {
    if (accept(close)) return;
    do {
      out.push_back(parse_or());
    } while (accept(","));
    expect(close);
  }

  // Unknown names and wrong argument counts are found at load time, with the list of what exists.
  static void check_call(const Expr& call) {
    const Function* f = find_function(call.name);
    if (!f) {
      std::string names;
      for (auto n : function_names()) names += (names.empty() ? "" : ", ") + std::string(n);
      throw ExprError(fmt::format("unknown function '{}'; the functions are: {}", call.name, names),
                      call.offset);
    }
    size_t n = call.args.size();
    if (n < f->min_args || n > f->max_args) {
      std::string want = f->min_args == f->max_args ? std::to_string(f->min_args)
                                                    : fmt::format("{} to {}", f->min_args, f->max_args);
      throw ExprError(fmt::format("{} takes {} argument(s) (the piped value counts as the first), found {}",
                                  call.name, want, n),
                      call.offset);
    }
  }

  ExprPtr parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Token::Kind::String: {
        auto e = make(Expr::Kind::Literal, t.offset);
        e->literal = next().text;
        return e;
      }
      case Token::Kind::Int: {
        auto e = make(Expr::Kind::Literal, t.offset);
        e->literal = next().number;
        return e;
      }
      case Token::Kind::Ident:
        return parse_ident();
      case Token::Kind::Punct:
        if (accept("(")) {
          auto e = parse_or();
          expect(")");
          return e;
        }
        if (is_punct("[")) {
          auto e = make(Expr::Kind::List, next().offset);
          parse_args("]", e->args);
          return e;
        }
        break;
      case Token::Kind::End:
        break;
    }
    fail_expected("a value (a name, string, integer, list or '(')");
  }

  ExprPtr parse_ident() {
    const Token& t = next();
    if (t.text == "true" || t.text == "false" || t.text == "null") {
      auto e = make(Expr::Kind::Literal, t.offset);
      e->literal = t.text == "null" ? json() : json(t.text == "true");
      return e;
    }
    if (t.text == "and" || t.text == "or" || t.text == "not") {
      --pos_;
      fail_expected("a value");
    }
    if (accept("(")) {
      auto call = make(Expr::Kind::Call, t.offset);
      call->name = t.text;
      parse_args(")", call->args);
      check_call(*call);
      parse_steps(*call);  // host_link('eth0').mtu
      return call;
    }
    auto path = make(Expr::Kind::Path, t.offset);
    path->name = t.text;
    parse_steps(*path);
    return path;
  }

  void parse_steps(Expr& e) {
    while (true) {
      if (accept(".")) {
        if (peek().kind != Token::Kind::Ident) fail_expected("a field name after '.'");
        e.steps.push_back({next().text, nullptr});
      } else if (accept("[")) {
        e.steps.push_back({"", parse_or()});
        expect("]");
      } else {
        return;
      }
    }
  }

  std::vector<Token> tokens_;
  size_t pos_{0};
};

// ---- Evaluator
// ---------------------------------------------------------------------------------------------

json apply_steps(const json& start, std::string where, const Expr& e, const EvalEnv& env);

json eval_path(const Expr& e, const EvalEnv& env) {
  if (!env.roots.contains(e.name)) {
    if (e.name == "item" || e.name == "index")
      throw ExprError(fmt::format("'{}' is only defined in a list item that has a loop:", e.name), e.offset);
    if (e.name == "ipam") throw ExprError("'ipam' is only defined in a template that declares `ipam: true`", e.offset);
    throw ExprError(
        fmt::format(
            "unknown name '{}'; an expression starts from params, cni, prev, vars, alloc, item, index or ipam",
            e.name),
        e.offset);
  }
  return apply_steps(env.roots.at(e.name), e.name, e, env);
}

// `.field` and `[index]` after a path's root or a call's result; `where` names the value in messages.
json apply_steps(const json& start, std::string where, const Expr& e, const EvalEnv& env) {
  const json* cur = &start;
  for (const PathStep& step : e.steps) {
    if (!step.index) {
      if (!cur->is_object())
        throw ExprError(fmt::format("{} is {}, not an object: it has no field '{}'", where,
                                    describe_value(*cur), step.field),
                        e.offset);
      auto it = cur->find(step.field);
      if (it == cur->end()) {
        std::string keys;
        for (auto& [k, v] : cur->items()) keys += (keys.empty() ? "" : ", ") + k;
        throw ExprError(fmt::format("{} has no field '{}' (it has: {})", where, step.field,
                                    keys.empty() ? "nothing" : keys),
                        e.offset);
      }
      cur = &*it;
      where += "." + step.field;
      continue;
    }
    json idx = evaluate(*step.index, env);
    if (idx.is_number_integer()) {
      if (!cur->is_array())
        throw ExprError(fmt::format("{} is {}, not a list: it cannot be indexed by {}", where,
                                    describe_value(*cur), idx.dump()),
                        e.offset);
      int64_t i = idx.get<int64_t>();
      if (i < 0 || static_cast<size_t>(i) >= cur->size())
        throw ExprError(fmt::format("{}[{}] does not exist: {} has {} item(s)", where, i, where, cur->size()),
                        e.offset);
      cur = &(*cur)[static_cast<size_t>(i)];
      where += fmt::format("[{}]", i);
    } else if (idx.is_string()) {
      if (!cur->is_object() || !cur->contains(idx.get<std::string>()))
        throw ExprError(fmt::format("{} has no field '{}'", where, idx.get<std::string>()), e.offset);
      cur = &cur->at(idx.get<std::string>());
      where += fmt::format("['{}']", idx.get<std::string>());
    } else {
      throw ExprError(
          fmt::format("an index into {} must be an int or a string, found {}", where, describe_value(idx)),
          step.index->offset);
    }
  }
  return *cur;
}

// An int operand of an arithmetic or ordering operator. JSON keeps positive ints from a config as unsigned;
// beyond int64 they cannot take part in int64 arithmetic.
std::optional<int64_t> int_operand(const json& v, const char* op, size_t offset) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      throw ExprError(fmt::format("{} is too large for '{}' (ints are 64-bit signed)", v.dump(), op), offset);
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return std::nullopt;
}

const char* op_text(Expr::Kind kind) {
  switch (kind) {
    case Expr::Kind::Add:
      return "+";
    case Expr::Kind::Sub:
      return "-";
    case Expr::Kind::Mul:
      return "*";
    case Expr::Kind::Lt:
      return "<";
    case Expr::Kind::Le:
      return "<=";
    case Expr::Kind::Gt:
      return ">";
    case Expr::Kind::Ge:
      return ">=";
    default:
      return "?";
  }
}

// `+` also joins two strings or two lists; `-` and `*` are for ints only. Overflow is an error, never a
// wrapped value: a priority or table computed from a wrapped value would silently point elsewhere.
json eval_arithmetic(const Expr& e, const EvalEnv& env) {
  json a = evaluate(*e.args[0], env), b = evaluate(*e.args[1], env);
  const char* op = op_text(e.kind);
  if (e.kind == Expr::Kind::Add) {
    if (a.is_string() && b.is_string())
      return a.get_ref<const std::string&>() + b.get_ref<const std::string&>();
    if (a.is_array() && b.is_array()) {
      a.insert(a.end(), b.begin(), b.end());
      return a;
    }
  }
  auto x = int_operand(a, op, e.offset), y = int_operand(b, op, e.offset);
  if (!x || !y)
    throw ExprError(fmt::format("'{}' needs {}, found {} and {}", op,
                                e.kind == Expr::Kind::Add ? "two ints, two strings or two lists" : "two ints",
                                describe_value(a), describe_value(b)),
                    e.offset);
  int64_t r = 0;
  bool overflow = e.kind == Expr::Kind::Add   ? __builtin_add_overflow(*x, *y, &r)
                  : e.kind == Expr::Kind::Sub ? __builtin_sub_overflow(*x, *y, &r)
                                              : __builtin_mul_overflow(*x, *y, &r);
  if (overflow)
    throw ExprError(fmt::format("{} {} {} is out of range (ints are 64-bit signed)", *x, op, *y), e.offset);
  return r;
}

// Ints by value, strings byte by byte (so "10" < "9"); anything else is a mistake, not false.
json eval_ordering(const Expr& e, const EvalEnv& env) {
  json a = evaluate(*e.args[0], env), b = evaluate(*e.args[1], env);
  const char* op = op_text(e.kind);
  int c = 0;
  if (a.is_string() && b.is_string()) {
    c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
  } else {
    auto x = int_operand(a, op, e.offset), y = int_operand(b, op, e.offset);
    if (!x || !y)
      throw ExprError(fmt::format("'{}' compares two ints or two strings, found {} and {}", op,
                                  describe_value(a), describe_value(b)),
                      e.offset);
    c = *x < *y ? -1 : *x > *y ? 1 : 0;
  }
  switch (e.kind) {
    case Expr::Kind::Lt:
      return c < 0;
    case Expr::Kind::Le:
      return c <= 0;
    case Expr::Kind::Gt:
      return c > 0;
    default:
      return c >= 0;
  }
}

}  // namespace

ExprPtr parse_expression(std::string_view text) { return Parser(text).parse(); }

bool truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return false;
    case json::value_t::boolean:
      return v.get<bool>();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return v.get<int64_t>() != 0;
    case json::value_t::number_float:
      return v.get<double>() != 0;
    case json::value_t::string:
      return !v.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object:
      return !v.empty();
    default:
      return true;
  }
}

std::string describe_value(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return fmt::format("{} (bool)", v.get<bool>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return fmt::format("{} (int)", v.dump());
    case json::value_t::number_float:
      return fmt::format("{} (float)", v.dump());
    case json::value_t::string:
      return fmt::format("'{}' (string)", v.get_ref<const std::string&>());
    case json::value_t::array:
      return fmt::format("a list of {}", v.size());
    case json::value_t::object:
      return "an object";
    default:
      return v.dump();
  }
}

json evaluate(const Expr& e, const EvalEnv& env) {
  switch (e.kind) {
    case Expr::Kind::Literal:
      return e.literal;
    case Expr::Kind::Path:
      return eval_path(e, env);
    case Expr::Kind::List: {
      json out = json::array();
      for (auto& a : e.args) out.push_back(evaluate(*a, env));
      return out;
    }
    case Expr::Kind::Not:
      return !truthy(evaluate(*e.args[0], env));
    case Expr::Kind::And:  // short-circuit, so `x != null and x.y` is safe
      return truthy(evaluate(*e.args[0], env)) && truthy(evaluate(*e.args[1], env));
    case Expr::Kind::Or:
      return truthy(evaluate(*e.args[0], env)) || truthy(evaluate(*e.args[1], env));
    case Expr::Kind::Eq:
      return evaluate(*e.args[0], env) == evaluate(*e.args[1], env);
    case Expr::Kind::Ne:
      return evaluate(*e.args[0], env) != evaluate(*e.args[1], env);
    case Expr::Kind::Lt:
    case Expr::Kind::Le:
    case Expr::Kind::Gt:
    case Expr::Kind::Ge:
      return eval_ordering(e, env);
    case Expr::Kind::Add:
    case Expr::Kind::Sub:
    case Expr::Kind::Mul:
      return eval_arithmetic(e, env);
    case Expr::Kind::Call: {
      const Function* f = find_function(e.name);
      std::vector<json> args;
      args.reserve(e.args.size());
      for (auto& a : e.args) {
        if (f->decided && !args.empty() && f->decided(args)) break;  // short-circuit, as `and` and `or`
        args.push_back(evaluate(*a, env));
      }
      try {
        json result = f->call(args, env.facts);
        return e.steps.empty() ? result : apply_steps(result, e.name + "(...)", e, env);
      } catch (ExprError& err) {
        if (err.offset == std::string::npos) err.offset = e.offset;
        throw;
      }
    }
  }
  throw ExprError("internal: unknown expression kind", e.offset);
}

// ---- Interpolation
// -----------------------------------------------------------------------------------------

bool Interpolation::has_expressions() const {
  for (auto& p : pieces)
    if (p.expr) return true;
  return false;
}

Interpolation parse_interpolation(std::string_view text) {
  Interpolation out;
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      literal += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      literal += text[i++];
      continue;
    }
    // Find the closing brace outside quotes: strings in the expression may contain '}'.
    size_t start = i + 2, j = start;
    char quote = 0;
    for (; j < text.size(); ++j) {
      char c = text[j];
      if (quote) {
        if (c == '\\')
          ++j;
        else if (c == quote)
          quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '}') {
        break;
      }
    }
    if (j >= text.size()) throw ExprError("'${' without a closing '}'", i);
    if (!literal.empty()) out.pieces.push_back({std::move(literal), nullptr});
    literal.clear();
    try {
      out.pieces.push_back({"", parse_expression(text.substr(start, j - start))});
    } catch (ExprError& err) {
      if (err.offset != std::string::npos) err.offset += start;
      throw;
    }
    i = j + 1;
  }
  if (!literal.empty() || out.pieces.empty()) out.pieces.push_back({std::move(literal), nullptr});
  return out;
}

json render_interpolation(const Interpolation& in, const EvalEnv& env) {
  if (in.typed()) return evaluate(*in.pieces[0].expr, env);
  std::string out;
  for (auto& p : in.pieces) {
    if (!p.expr) {
      out += p.text;
      continue;
    }
    json v = evaluate(*p.expr, env);
    if (v.is_string())
      out += v.get_ref<const std::string&>();
    else if (v.is_number_integer())
      out += v.dump();
    else if (v.is_boolean())
      out += v.get<bool>() ? "true" : "false";
    else
      throw ExprError(fmt::format("cannot put {} into a string; only strings, ints and bools can be "
                                  "(use default(...) for null, or join(...) for a list)",
                                  describe_value(v)),
                      p.expr->offset);
  }
  return out;
}

}  // namespace topo::tmpl

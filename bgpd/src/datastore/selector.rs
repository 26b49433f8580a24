//! Calico's label selector language, as used by `BGPPeer.spec.nodeSelector` and
//! `BGPPeer.spec.peerSelector` (and everywhere else Calico selects resources by label).
//!
//! This is an independent implementation of the grammar accepted by projectcalico/calico's
//! `libcalico-go/lib/selector` (tokenizer and parser) with the same matching semantics. Selector
//! text comes from a datastore the cluster operator controls, so parsing never panics: every
//! malformed input yields a [`SelectorError`] carrying the 0-based character position of the
//! problem, and nesting is limited to [`MAX_DEPTH`] levels so that hostile input cannot exhaust
//! the stack.
//!
//! # Grammar
//!
//! ```text
//! selector   := <empty> | or-expr
//! or-expr    := and-expr ( "||" and-expr )*
//! and-expr   := unary ( "&&" unary )*
//! unary      := "!" unary | primary
//! primary    := "(" or-expr ")"
//!             | "all" "(" ")"
//!             | "global" "(" ")"                  (matches like all())
//!             | "has" "(" key ")"
//!             | key ( "==" | "!=" ) value
//!             | key ( "contains" | "starts with" | "ends with" ) value
//!             | key ( "in" | "not in" ) set
//! set        := "{" [ value ( "," value )* [ "," ] ] "}"
//! value      := "'" any characters except ' "'" | '"' any characters except " '"'
//! key        := one or more of [A-Za-z0-9_./-]  (Kubernetes label key characters)
//! ```
//!
//! `&&` binds tighter than `||`; `!` applies to the single term (or parenthesised group) after
//! it, so `!a == 'x'` means `!(a == 'x')`. Whitespace (any Unicode whitespace, including
//! newlines from YAML block scalars) may appear between any two tokens. Like Calico, quoted
//! values have no escape sequences, and the joined spellings `notin`, `startswith` and
//! `endswith` are accepted too. Words such as `in` or `has` are only keywords where an operator
//! or function is expected, so they remain usable as label keys (`has == 'x'`).
//!
//! # Semantics
//!
//! For a label key that is absent from the label map: `has(key)`, `==`, `in`, `contains`,
//! `starts with` and `ends with` are false, while `!=` and `not in` are true.
//!
//! An empty or whitespace-only string parses as [`Selector::all`]. Calico treats an empty
//! `nodeSelector` like that too, but some fields give "unset" a different meaning (for example
//! a `BGPPeer` without `peerSelector` uses `peerIP` instead); callers that need to tell the two
//! apart must check for an empty string before parsing.
//!
//! # Canonical form
//!
//! Parsing normalises the selector: `global()` becomes `all()`, nested `&&` (or `||`) groups are
//! flattened, and set literals are sorted and de-duplicated. [`Selector`]'s `Display` prints this
//! canonical form with the fewest parentheses needed, so it always parses back to an equal
//! [`Selector`] (and never nests deeper than the text it was parsed from).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// The maximum nesting depth, counting each enclosing `(` and each `!` as one level. Deeper
/// selectors are refused with a [`SelectorError`].
pub const MAX_DEPTH: usize = 64;

/// A parsed label selector; see the [module documentation](self) for the grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    root: Node,
}

/// Why a selector string could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    /// 0-based position, in characters (not bytes), of the offending input; the length of the
    /// input when it ended too early.
    pub position: usize,
    /// Human-readable description of the problem.
    pub message: String,
}

impl SelectorError {
    fn new(position: usize, message: impl Into<String>) -> Self {
        SelectorError { position, message: message.into() }
    }
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.position, self.message)
    }
}

impl std::error::Error for SelectorError {}

/// The selector's syntax tree. `And`/`Or` always hold at least two operands and never hold an
/// operand of their own kind (the parser flattens those).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    All,
    Has(String),
    Eq(String, String),
    Ne(String, String),
    Contains(String, String),
    StartsWith(String, String),
    EndsWith(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

impl Node {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Node::All => true,
            Node::Has(key) => labels.contains_key(key),
            Node::Eq(key, value) => labels.get(key) == Some(value),
            Node::Ne(key, value) => labels.get(key) != Some(value),
            Node::Contains(key, value) => {
                labels.get(key).is_some_and(|v| v.contains(value.as_str()))
            }
            Node::StartsWith(key, value) => {
                labels.get(key).is_some_and(|v| v.starts_with(value.as_str()))
            }
            Node::EndsWith(key, value) => {
                labels.get(key).is_some_and(|v| v.ends_with(value.as_str()))
            }
            Node::In(key, set) => labels.get(key).is_some_and(|v| set.contains(v)),
            Node::NotIn(key, set) => !labels.get(key).is_some_and(|v| set.contains(v)),
            Node::Not(inner) => !inner.matches(labels),
            Node::And(nodes) => nodes.iter().all(|n| n.matches(labels)),
            Node::Or(nodes) => nodes.iter().any(|n| n.matches(labels)),
        }
    }
}

impl Selector {
    /// The selector that matches every label set (`all()`).
    #[must_use]
    pub fn all() -> Selector {
        Selector { root: Node::All }
    }

    /// Whether a resource with these labels is selected.
    #[must_use]
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.root.matches(labels)
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    /// Parses selector text. An empty or whitespace-only string yields [`Selector::all`]; the
    /// caller decides beforehand whether an empty field means "unset" instead.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut tokens = tokenize(s)?;
        if tokens.is_empty() {
            return Ok(Selector::all());
        }
        tokens.reverse();
        let mut parser = Parser { tokens, end: s.chars().count(), depth: 0 };
        let root = parser.parse_or()?;
        if let Some(token) = parser.tokens.last() {
            let message = if token.kind == Kind::RParen {
                "unbalanced `)`: there is no matching `(`".to_string()
            } else {
                format!(
                    "found {} after the end of the expression; expected `&&`, `||` or the \
                     end of the selector",
                    describe(Some(&token.kind))
                )
            };
            return Err(SelectorError::new(token.pos, message));
        }
        Ok(Selector { root })
    }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Eq,
    Ne,
    Not,
    And,
    Or,
    /// A run of label-key characters: a label key, an operator word or a function name.
    Word(String),
    /// A quoted value, without its quotes.
    Str(String),
}

#[derive(Debug)]
struct Token {
    kind: Kind,
    /// 0-based character position of the token's first character.
    pos: usize,
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

fn tokenize(input: &str) -> Result<Vec<Token>, SelectorError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().enumerate().peekable();
    while let Some((pos, c)) = chars.next() {
        let kind = match c {
            c if c.is_whitespace() => continue,
            '(' => Kind::LParen,
            ')' => Kind::RParen,
            '{' => Kind::LBrace,
            '}' => Kind::RBrace,
            ',' => Kind::Comma,
            '=' => {
                if chars.next_if(|&(_, n)| n == '=').is_none() {
                    return Err(SelectorError::new(pos, "unknown operator `=`; expected `==`"));
                }
                Kind::Eq
            }
            '!' => {
                if chars.next_if(|&(_, n)| n == '=').is_some() {
                    Kind::Ne
                } else {
                    Kind::Not
                }
            }
            '&' => {
                if chars.next_if(|&(_, n)| n == '&').is_none() {
                    return Err(SelectorError::new(pos, "unknown operator `&`; expected `&&`"));
                }
                Kind::And
            }
            '|' => {
                if chars.next_if(|&(_, n)| n == '|').is_none() {
                    return Err(SelectorError::new(pos, "unknown operator `|`; expected `||`"));
                }
                Kind::Or
            }
            '\'' | '"' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, ch)) if ch == c => break,
                        Some((_, ch)) => value.push(ch),
                        None => {
                            return Err(SelectorError::new(
                                pos,
                                format!("unterminated string: missing the closing {c}"),
                            ))
                        }
                    }
                }
                Kind::Str(value)
            }
            c if is_key_char(c) => {
                let mut word = String::from(c);
                while let Some((_, ch)) = chars.next_if(|&(_, ch)| is_key_char(ch)) {
                    word.push(ch);
                }
                Kind::Word(word)
            }
            other => {
                return Err(SelectorError::new(pos, format!("unexpected character {other:?}")))
            }
        };
        tokens.push(Token { kind, pos });
    }
    Ok(tokens)
}

/// Describes a token (or the end of input, `None`) for error messages.
fn describe(kind: Option<&Kind>) -> String {
    let text = match kind {
        None => return "end of input".to_string(),
        Some(Kind::Word(word)) => return format!("`{word}`"),
        Some(Kind::Str(_)) => return "a quoted value".to_string(),
        Some(Kind::LParen) => "(",
        Some(Kind::RParen) => ")",
        Some(Kind::LBrace) => "{",
        Some(Kind::RBrace) => "}",
        Some(Kind::Comma) => ",",
        Some(Kind::Eq) => "==",
        Some(Kind::Ne) => "!=",
        Some(Kind::Not) => "!",
        Some(Kind::And) => "&&",
        Some(Kind::Or) => "||",
    };
    format!("`{text}`")
}

// ---------------------------------------------------------------------------------------------
// Parser

#[derive(Clone, Copy)]
enum Op {
    Eq,
    Ne,
    Contains,
    StartsWith,
    EndsWith,
    In,
    NotIn,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Contains => "contains",
            Op::StartsWith => "starts with",
            Op::EndsWith => "ends with",
            Op::In => "in",
            Op::NotIn => "not in",
        }
    }
}

/// Recursive-descent parser. Recursion only happens through `(` and `!`, both of which count
/// towards `depth`, so the stack use is bounded by [`MAX_DEPTH`].
struct Parser {
    /// Remaining tokens in reverse order, so that the next token is `last()`/`pop()`.
    tokens: Vec<Token>,
    /// Character length of the input: the position reported for "end of input".
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Kind> {
        self.tokens.last().map(|t| &t.kind)
    }

    fn pos(&self) -> usize {
        self.tokens.last().map_or(self.end, |t| t.pos)
    }

    fn eat(&mut self, kind: &Kind) -> bool {
        if self.peek() == Some(kind) {
            self.tokens.pop();
            true
        } else {
            false
        }
    }

    fn error_here(&self, message: String) -> SelectorError {
        SelectorError::new(self.pos(), message)
    }

    fn enter(&mut self, pos: usize) -> Result<(), SelectorError> {
        if self.depth >= MAX_DEPTH {
            return Err(SelectorError::new(
                pos,
                format!(
                    "selector is nested too deeply (more than {MAX_DEPTH} levels of \
                     parentheses and `!`)"
                ),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn parse_or(&mut self) -> Result<Node, SelectorError> {
        let first = self.parse_and()?;
        if self.peek() != Some(&Kind::Or) {
            return Ok(first);
        }
        let mut operands = Vec::new();
        push_flattened(&mut operands, first, Kind::Or);
        while self.eat(&Kind::Or) {
            let next = self.parse_and()?;
            push_flattened(&mut operands, next, Kind::Or);
        }
        Ok(Node::Or(operands))
    }

    fn parse_and(&mut self) -> Result<Node, SelectorError> {
        let first = self.parse_unary()?;
        if self.peek() != Some(&Kind::And) {
            return Ok(first);
        }
        let mut operands = Vec::new();
        push_flattened(&mut operands, first, Kind::And);
        while self.eat(&Kind::And) {
            let next = self.parse_unary()?;
            push_flattened(&mut operands, next, Kind::And);
        }
        Ok(Node::And(operands))
    }

    fn parse_unary(&mut self) -> Result<Node, SelectorError> {
        let mut negations = 0;
        while self.peek() == Some(&Kind::Not) {
            self.enter(self.pos())?;
            self.tokens.pop();
            negations += 1;
        }
        let mut node = self.parse_primary()?;
        self.depth -= negations;
        for _ in 0..negations {
            node = Node::Not(Box::new(node));
        }
        Ok(node)
    }

    fn parse_primary(&mut self) -> Result<Node, SelectorError> {
        let pos = self.pos();
        match self.tokens.pop() {
            Some(Token { kind: Kind::LParen, .. }) => {
                self.enter(pos)?;
                let inner = self.parse_or()?;
                if !self.eat(&Kind::RParen) {
                    return Err(self.error_here(format!(
                        "expected `)` to close the `(` at character {pos}, found {}",
                        describe(self.peek())
                    )));
                }
                self.depth -= 1;
                Ok(inner)
            }
            Some(Token { kind: Kind::Word(word), .. }) => {
                if self.eat(&Kind::LParen) {
                    self.parse_function(&word, pos)
                } else {
                    self.parse_comparison(word)
                }
            }
            other => Err(SelectorError::new(
                pos,
                format!(
                    "expected a selector term (`has(key)`, `key == 'value'`, `all()`, `!` or \
                     `(`), found {}",
                    describe(other.as_ref().map(|t| &t.kind))
                ),
            )),
        }
    }

    /// Parses the rest of `name(`…`)`; the `(` has been consumed.
    fn parse_function(&mut self, name: &str, pos: usize) -> Result<Node, SelectorError> {
        match name {
            "all" | "global" => {
                if !self.eat(&Kind::RParen) {
                    return Err(self.error_here(format!(
                        "expected `)` after `{name}(`, found {}",
                        describe(self.peek())
                    )));
                }
                Ok(Node::All)
            }
            "has" => {
                let key_pos = self.pos();
                let key = match self.tokens.pop() {
                    Some(Token { kind: Kind::Word(key), .. }) => key,
                    other => {
                        return Err(SelectorError::new(
                            key_pos,
                            format!(
                                "expected a label key inside `has(`, found {}",
                                describe(other.as_ref().map(|t| &t.kind))
                            ),
                        ))
                    }
                };
                if !self.eat(&Kind::RParen) {
                    return Err(self.error_here(format!(
                        "expected `)` after `has({key}`, found {}",
                        describe(self.peek())
                    )));
                }
                Ok(Node::Has(key))
            }
            _ => Err(SelectorError::new(
                pos,
                format!("unknown function `{name}(`; expected `has(`, `all(` or `global(`"),
            )),
        }
    }

    /// Parses the operator and operand after the label key `key`.
    fn parse_comparison(&mut self, key: String) -> Result<Node, SelectorError> {
        let op_pos = self.pos();
        let op = match self.tokens.pop() {
            Some(Token { kind: Kind::Eq, .. }) => Op::Eq,
            Some(Token { kind: Kind::Ne, .. }) => Op::Ne,
            Some(Token { kind: Kind::Word(word), .. }) => match word.as_str() {
                "in" => Op::In,
                "notin" => Op::NotIn,
                "not" => self.second_word("not", "in", Op::NotIn)?,
                "contains" => Op::Contains,
                "startswith" => Op::StartsWith,
                "starts" => self.second_word("starts", "with", Op::StartsWith)?,
                "endswith" => Op::EndsWith,
                "ends" => self.second_word("ends", "with", Op::EndsWith)?,
                _ => {
                    return Err(SelectorError::new(
                        op_pos,
                        format!(
                            "unknown operator `{word}` after label key `{key}`; expected `==`, \
                             `!=`, `in`, `not in`, `contains`, `starts with` or `ends with`"
                        ),
                    ))
                }
            },
            other => {
                return Err(SelectorError::new(
                    op_pos,
                    format!(
                        "expected an operator (`==`, `!=`, `in`, `not in`, `contains`, \
                         `starts with` or `ends with`) after label key `{key}`, found {}",
                        describe(other.as_ref().map(|t| &t.kind))
                    ),
                ))
            }
        };
        match op {
            Op::In => Ok(Node::In(key, self.parse_set(op)?)),
            Op::NotIn => Ok(Node::NotIn(key, self.parse_set(op)?)),
            Op::Eq => Ok(Node::Eq(key, self.parse_value(op)?)),
            Op::Ne => Ok(Node::Ne(key, self.parse_value(op)?)),
            Op::Contains => Ok(Node::Contains(key, self.parse_value(op)?)),
            Op::StartsWith => Ok(Node::StartsWith(key, self.parse_value(op)?)),
            Op::EndsWith => Ok(Node::EndsWith(key, self.parse_value(op)?)),
        }
    }

    /// Consumes the `expected` word completing a two-word operator that began with `first`.
    fn second_word(&mut self, first: &str, expected: &str, op: Op) -> Result<Op, SelectorError> {
        match self.peek() {
            Some(Kind::Word(word)) if word == expected => {
                self.tokens.pop();
                Ok(op)
            }
            other => Err(self.error_here(format!(
                "expected `{expected}` after `{first}`, found {}",
                describe(other)
            ))),
        }
    }

    fn parse_value(&mut self, op: Op) -> Result<String, SelectorError> {
        let pos = self.pos();
        match self.tokens.pop() {
            Some(Token { kind: Kind::Str(value), .. }) => Ok(value),
            other => Err(SelectorError::new(
                pos,
                format!(
                    "expected a quoted value after `{}`, found {}",
                    op.text(),
                    describe(other.as_ref().map(|t| &t.kind))
                ),
            )),
        }
    }

    fn parse_set(&mut self, op: Op) -> Result<BTreeSet<String>, SelectorError> {
        if !self.eat(&Kind::LBrace) {
            return Err(self.error_here(format!(
                "expected a set such as {{'a', 'b'}} after `{}`, found {}",
                op.text(),
                describe(self.peek())
            )));
        }
        let mut values = BTreeSet::new();
        loop {
            let pos = self.pos();
            match self.tokens.pop() {
                Some(Token { kind: Kind::RBrace, .. }) => return Ok(values),
                Some(Token { kind: Kind::Str(value), .. }) => {
                    values.insert(value);
                    let pos = self.pos();
                    match self.tokens.pop() {
                        Some(Token { kind: Kind::Comma, .. }) => {}
                        Some(Token { kind: Kind::RBrace, .. }) => return Ok(values),
                        other => {
                            return Err(SelectorError::new(
                                pos,
                                format!(
                                    "expected `,` or `}}` after a value in the set, found {}",
                                    describe(other.as_ref().map(|t| &t.kind))
                                ),
                            ))
                        }
                    }
                }
                other => {
                    return Err(SelectorError::new(
                        pos,
                        format!(
                            "expected a quoted value or `}}` in the set, found {}",
                            describe(other.as_ref().map(|t| &t.kind))
                        ),
                    ))
                }
            }
        }
    }
}

/// Appends `node` to the operands of an `&&` (`kind == Kind::And`) or `||` group, splicing in
/// the operands of a parenthesised group of the same kind.
fn push_flattened(operands: &mut Vec<Node>, node: Node, kind: Kind) {
    match (node, kind) {
        (Node::And(inner), Kind::And) | (Node::Or(inner), Kind::Or) => operands.extend(inner),
        (node, _) => operands.push(node),
    }
}

// ---------------------------------------------------------------------------------------------
// Display

/// Where a node is printed, which decides whether it needs parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Top,
    Or,
    And,
    Not,
}

impl fmt::Display for Selector {
    /// Prints the canonical form (see the module documentation), e.g.
    /// `has(a) && (b == "x" || c in {"p", "q"})`. Values are double-quoted unless they contain
    /// a `"`, in which case they are single-quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_node(f, &self.root, Context::Top)
    }
}

fn write_node(f: &mut fmt::Formatter<'_>, node: &Node, context: Context) -> fmt::Result {
    match node {
        Node::All => f.write_str("all()"),
        Node::Has(key) => write!(f, "has({key})"),
        Node::Eq(key, value) => write_comparison(f, key, Op::Eq, value),
        Node::Ne(key, value) => write_comparison(f, key, Op::Ne, value),
        Node::Contains(key, value) => write_comparison(f, key, Op::Contains, value),
        Node::StartsWith(key, value) => write_comparison(f, key, Op::StartsWith, value),
        Node::EndsWith(key, value) => write_comparison(f, key, Op::EndsWith, value),
        Node::In(key, set) => write_set(f, key, Op::In, set),
        Node::NotIn(key, set) => write_set(f, key, Op::NotIn, set),
        Node::Not(inner) => {
            f.write_str("!")?;
            write_node(f, inner, Context::Not)
        }
        Node::And(operands) => write_group(
            f,
            operands,
            " && ",
            Context::And,
            matches!(context, Context::And | Context::Not),
        ),
        Node::Or(operands) => {
            write_group(f, operands, " || ", Context::Or, context != Context::Top)
        }
    }
}

fn write_group(
    f: &mut fmt::Formatter<'_>,
    operands: &[Node],
    separator: &str,
    context: Context,
    parenthesise: bool,
) -> fmt::Result {
    if parenthesise {
        f.write_str("(")?;
    }
    for (i, operand) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        write_node(f, operand, context)?;
    }
    if parenthesise {
        f.write_str(")")?;
    }
    Ok(())
}

fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    // A parsed value never contains both kinds of quote, so one of them always works.
    let quote = if value.contains('"') { '\'' } else { '"' };
    write!(f, "{quote}{value}{quote}")
}

fn write_comparison(f: &mut fmt::Formatter<'_>, key: &str, op: Op, value: &str) -> fmt::Result {
    write!(f, "{key} {} ", op.text())?;
    write_quoted(f, value)
}

fn write_set(f: &mut fmt::Formatter<'_>, key: &str, op: Op, set: &BTreeSet<String>) -> fmt::Result {
    write!(f, "{key} {} {{", op.text())?;
    for (i, value) in set.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_quoted(f, value)?;
    }
    f.write_str("}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn parse(text: &str) -> Selector {
        match text.parse::<Selector>() {
            Ok(selector) => selector,
            Err(e) => panic!("{text:?} failed to parse: {e}"),
        }
    }

    fn parse_err(text: &str) -> SelectorError {
        match text.parse::<Selector>() {
            Ok(selector) => panic!("{text:?} parsed unexpectedly as {selector:?}"),
            Err(e) => e,
        }
    }

    /// Asserts that `text` matches exactly the label sets in `yes` and none in `no`.
    fn check(text: &str, yes: &[&[(&str, &str)]], no: &[&[(&str, &str)]]) {
        let selector = parse(text);
        for l in yes {
            assert!(selector.matches(&labels(l)), "{text:?} should match {l:?}");
        }
        for l in no {
            assert!(!selector.matches(&labels(l)), "{text:?} should not match {l:?}");
        }
    }

    fn assert_error(text: &str, position: usize, fragment: &str) {
        let e = parse_err(text);
        assert_eq!(e.position, position, "{text:?}: {e}");
        assert!(e.message.contains(fragment), "{text:?}: {e:?} should mention {fragment:?}");
    }

    #[test]
    fn all_and_global_match_everything() {
        for text in ["all()", "global()", "all( )", " all ( ) ", "global (\t)"] {
            assert_eq!(parse(text), Selector::all(), "{text:?}");
            check(text, &[&[], &[("a", "b")]], &[]);
        }
        assert!(Selector::all().matches(&BTreeMap::new()));
    }

    #[test]
    fn empty_selector_is_all() {
        for text in ["", " ", "\t \n  "] {
            assert_eq!(parse(text), Selector::all(), "{text:?}");
        }
    }

    #[test]
    fn has_operator() {
        check("has(a)", &[&[("a", "")], &[("a", "x"), ("b", "y")]], &[&[], &[("b", "x")]]);
        check("!has(a)", &[&[], &[("b", "x")]], &[&[("a", "")], &[("a", "x")]]);
        check("has( a )", &[&[("a", "x")]], &[&[]]);
    }

    #[test]
    fn has_route_reflector() {
        check(
            "has(route-reflector)",
            &[&[("route-reflector", "true")], &[("route-reflector", "")]],
            &[&[], &[("route", "reflector")]],
        );
        check("!has(route-reflector)", &[&[]], &[&[("route-reflector", "true")]]);
    }

    #[test]
    fn equals_operator() {
        for text in ["a == 'x'", "a == \"x\"", "a=='x'"] {
            check(
                text,
                &[&[("a", "x")], &[("a", "x"), ("b", "y")]],
                &[&[], &[("a", "y")], &[("a", "")], &[("a", "xx")], &[("b", "x")]],
            );
        }
        check("a == ''", &[&[("a", "")]], &[&[], &[("a", "x")]]);
    }

    #[test]
    fn not_equals_operator() {
        for text in ["a != 'x'", "a != \"x\"", "a!='x'"] {
            check(text, &[&[], &[("a", "y")], &[("b", "x")]], &[&[("a", "x")]]);
        }
    }

    #[test]
    fn in_operator() {
        for text in ["a in {'x', \"y\"}", "a in{'x','y'}", "a in { 'y' , 'x' , }"] {
            check(text, &[&[("a", "x")], &[("a", "y")]], &[&[], &[("a", "z")], &[("b", "x")]]);
        }
        check("a in {}", &[], &[&[], &[("a", "")], &[("a", "x")]]);
        check("a in {''}", &[&[("a", "")]], &[&[], &[("a", "x")]]);
    }

    #[test]
    fn not_in_operator() {
        for text in ["a not in {'x', \"y\"}", "a not  in {'x','y'}", "a notin {'x', 'y'}"] {
            check(text, &[&[], &[("a", "z")], &[("b", "x")]], &[&[("a", "x")], &[("a", "y")]]);
        }
        check("a not in {}", &[&[], &[("a", "x")]], &[]);
    }

    #[test]
    fn contains_operator() {
        check(
            "a contains 'ell'",
            &[&[("a", "hello")], &[("a", "ell")]],
            &[&[], &[("a", "help")], &[("b", "hello")]],
        );
        check("a contains ''", &[&[("a", "")], &[("a", "x")]], &[&[]]);
    }

    #[test]
    fn starts_with_operator() {
        for text in ["a starts with 'he'", "a starts\twith \"he\"", "a startswith 'he'"] {
            check(
                text,
                &[&[("a", "hello")], &[("a", "he")]],
                &[&[], &[("a", "the")], &[("a", "h")], &[("b", "hello")]],
            );
        }
    }

    #[test]
    fn ends_with_operator() {
        for text in ["a ends with 'lo'", "a ends  with \"lo\"", "a endswith 'lo'"] {
            check(
                text,
                &[&[("a", "hello")], &[("a", "lo")]],
                &[&[], &[("a", "lot")], &[("b", "hello")]],
            );
        }
    }

    #[test]
    fn kubernetes_style_keys() {
        check(
            "kubernetes.io/hostname == 'node-1.example.com'",
            &[&[("kubernetes.io/hostname", "node-1.example.com")]],
            &[&[("kubernetes.io/hostname", "node-2")], &[("hostname", "node-1.example.com")]],
        );
        check(
            "has(topology.kubernetes.io/zone) && my_label-2 in {'A_b.c'}",
            &[&[("topology.kubernetes.io/zone", "z"), ("my_label-2", "A_b.c")]],
            &[&[("topology.kubernetes.io/zone", "z")], &[("my_label-2", "A_b.c")]],
        );
        check("0-leading.digit == 'x'", &[&[("0-leading.digit", "x")]], &[&[]]);
    }

    #[test]
    fn keywords_are_usable_as_keys() {
        check("in == 'x'", &[&[("in", "x")]], &[&[]]);
        check("has == 'x' && all != 'y'", &[&[("has", "x")]], &[&[("has", "x"), ("all", "y")]]);
        check("not in {'x'}", &[&[("not", "x")]], &[&[], &[("not", "y")]]);
        check("contains contains 'x'", &[&[("contains", "xx")]], &[&[]]);
        check("has(has)", &[&[("has", "")]], &[&[]]);
    }

    #[test]
    fn quote_styles() {
        assert_eq!(parse("a == 'x'"), parse("a == \"x\""));
        check("a == 'say \"hi\"'", &[&[("a", "say \"hi\"")]], &[&[("a", "say hi")]]);
        check("a == \"it's\"", &[&[("a", "it's")]], &[&[("a", "its")]]);
        check("a == '&& || ( ) { } ,'", &[&[("a", "&& || ( ) { } ,")]], &[&[]]);
        check("a == 'ünï cödé'", &[&[("a", "ünï cödé")]], &[&[("a", "unicode")]]);
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let text = "a == 'x' || b == 'y' && c == 'z'";
        let selector = parse(text);
        assert_eq!(selector, parse("a == 'x' || (b == 'y' && c == 'z')"));
        assert_ne!(selector, parse("(a == 'x' || b == 'y') && c == 'z'"));
        check(
            text,
            &[&[("a", "x")], &[("b", "y"), ("c", "z")], &[("a", "x"), ("c", "q")]],
            &[&[], &[("b", "y")], &[("c", "z")], &[("a", "q"), ("b", "y")]],
        );
        check(
            "a == 'x' && b == 'y' || c == 'z'",
            &[&[("a", "x"), ("b", "y")], &[("c", "z")]],
            &[&[("a", "x")], &[("b", "y")]],
        );
    }

    #[test]
    fn parentheses_override_precedence() {
        check(
            "(a == 'x' || b == 'y') && c == 'z'",
            &[&[("a", "x"), ("c", "z")]],
            &[&[("a", "x")], &[("c", "z")], &[("b", "y")]],
        );
        check("((has(a)))", &[&[("a", "")]], &[&[]]);
        assert_eq!(parse("((has(a)))"), parse("has(a)"));
        check(
            "(has(a) || has(b)) && (has(c) || has(d))",
            &[&[("a", ""), ("d", "")]],
            &[&[("a", ""), ("b", "")], &[("c", ""), ("d", "")]],
        );
    }

    #[test]
    fn negation() {
        check("!a == 'x'", &[&[], &[("a", "y")]], &[&[("a", "x")]]);
        assert_eq!(parse("!a == 'x'"), parse("!(a == 'x')"));
        check(
            "!(a == 'x' && b == 'y')",
            &[&[], &[("a", "x")], &[("b", "y")]],
            &[&[("a", "x"), ("b", "y")]],
        );
        check("!!has(a)", &[&[("a", "")]], &[&[]]);
        check("!!!has(a)", &[&[]], &[&[("a", "")]]);
        check("!all()", &[], &[&[], &[("a", "")]]);
        check("! a in {'x'}", &[&[], &[("a", "y")]], &[&[("a", "x")]]);
        check("!has(a) && b == 'y'", &[&[("b", "y")]], &[&[("a", ""), ("b", "y")], &[]]);
        check("!(has(a) || has(b))", &[&[], &[("c", "")]], &[&[("a", "")], &[("b", "")]]);
    }

    #[test]
    fn whitespace_is_insignificant() {
        let expected = parse("a == 'x' && (b != 'y' || !has(c))");
        for text in [
            "a=='x'&&(b!='y'||!has(c))",
            "  a  ==  'x'  &&  (  b  !=  'y'  ||  !  has  (  c  )  )  ",
            "a ==\t'x'\n&&\r\n(b != 'y'\n|| !has(c))",
        ] {
            assert_eq!(parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn canonical_form_normalises() {
        assert_eq!(parse("a in {'y', 'x', \"x\"}"), parse("a in {'x', 'y'}"));
        assert_eq!(parse("(has(a) && has(b)) && has(c)"), parse("has(a) && has(b) && has(c)"));
        assert_eq!(parse("has(a) || (has(b) || has(c))"), parse("has(a) || has(b) || has(c)"));
        assert_eq!(parse("global()"), parse("all()"));
        assert_ne!(parse("has(a) && has(b)"), parse("has(b) && has(a)"));
    }

    #[test]
    fn display_canonical_text() {
        let cases = [
            ("", "all()"),
            ("global()", "all()"),
            ("has( a )", "has(a)"),
            ("a=='x'", "a == \"x\""),
            ("a != \"x\"", "a != \"x\""),
            ("a == 'say \"hi\"'", "a == 'say \"hi\"'"),
            ("a in {'y','x','y'}", "a in {\"x\", \"y\"}"),
            ("a notin {}", "a not in {}"),
            ("a in {'\"', \"'\"}", "a in {'\"', \"'\"}"),
            ("a startswith 'p'", "a starts with \"p\""),
            ("a   ends\twith 's'", "a ends with \"s\""),
            ("a contains 'c'", "a contains \"c\""),
            ("a == 'x' || b == 'y' && c == 'z'", "a == \"x\" || b == \"y\" && c == \"z\""),
            ("(a == 'x' || b == 'y') && c == 'z'", "(a == \"x\" || b == \"y\") && c == \"z\""),
            ("((has(a) && has(b)) && has(c))", "has(a) && has(b) && has(c)"),
            ("!(has(a) && has(b))", "!(has(a) && has(b))"),
            ("!(has(a) || has(b))", "!(has(a) || has(b))"),
            ("!(a == 'x')", "!a == \"x\""),
            ("!!has(a)", "!!has(a)"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input).to_string(), expected, "{input:?}");
        }
    }

    #[test]
    fn display_round_trips() {
        let cases = [
            "all()",
            "has(route-reflector)",
            "!has(route-reflector)",
            "kubernetes.io/hostname == 'node-1'",
            "a != \"x\"",
            "a in {}",
            "a in {'x', \"y\", 'z'}",
            "a not in {'x'}",
            "a contains 'it\"s'",
            "a starts with \"it's\"",
            "a ends with ''",
            "a == 'x' || b == 'y' && c == 'z'",
            "(a == 'x' || b == 'y') && c == 'z'",
            "!(a == 'x' || !(b == 'y' && has(c))) && (d in {'1'} || e not in {'2'})",
            "((has(a) || has(b)) && (has(c) || has(d))) || !!!has(e)",
            "!(has(a) && has(b)) && !(has(c) || has(d)) && !has(e)",
            "all() && global() || has(x)",
            "a == '\n\t{}()&&||'",
        ];
        for text in cases {
            let selector = parse(text);
            let printed = selector.to_string();
            assert_eq!(parse(&printed), selector, "{text:?} printed as {printed:?}");
            assert_eq!(parse(&printed).to_string(), printed, "{text:?}");
        }
    }

    #[test]
    fn error_display_and_trait() {
        let e = parse_err("a = 'x'");
        assert_eq!(e.to_string(), format!("at character 2: {}", e.message));
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.to_string().starts_with("at character 2: "));
    }

    #[test]
    fn error_positions() {
        // Trailing garbage and unbalanced parentheses.
        assert_error("a == 'x' b", 9, "found `b` after the end of the expression");
        assert_error("has(a) has(b)", 7, "after the end of the expression");
        assert_error("a == 'x' 'y'", 9, "found a quoted value after");
        assert_error("a == 'x')", 8, "unbalanced `)`");
        assert_error("(has(a)))", 8, "unbalanced `)`");
        assert_error(")", 0, "expected a selector term");
        assert_error("(a == 'x'", 9, "expected `)` to close the `(` at character 0");
        assert_error("((has(a) && has(b)", 18, "close the `(` at character 1");
        assert_error("(has(a) has(b))", 8, "expected `)` to close the `(` at character 0");
        assert_error("()", 1, "expected a selector term");
        // Strings.
        assert_error("a == 'x", 5, "unterminated string");
        assert_error("a == \"x'", 5, "unterminated string");
        assert_error("a in {'x', \"y}", 11, "unterminated string");
        // Unknown operators and characters.
        assert_error("a = 'x'", 2, "expected `==`");
        assert_error("a > 'x'", 2, "unexpected character '>'");
        assert_error("a foo 'x'", 2, "unknown operator `foo` after label key `a`");
        assert_error("a is 'x'", 2, "unknown operator `is`");
        assert_error("a", 1, "expected an operator");
        assert_error("a 'x'", 2, "expected an operator");
        assert_error("a not 'x'", 6, "expected `in` after `not`");
        assert_error("a starts 'x'", 9, "expected `with` after `starts`");
        assert_error("a ends", 6, "expected `with` after `ends`");
        assert_error("has(a) & has(b)", 7, "expected `&&`");
        assert_error("has(a) | has(b)", 7, "expected `||`");
        assert_error("é == 'x'", 0, "unexpected character 'é'");
        assert_error("a == 'éé' )", 10, "unbalanced `)`");
        // Missing values.
        assert_error("a ==", 4, "expected a quoted value after `==`, found end of input");
        assert_error("a == b", 5, "expected a quoted value after `==`, found `b`");
        assert_error("a != && b == 'x'", 5, "expected a quoted value after `!=`");
        assert_error("a contains", 10, "expected a quoted value after `contains`");
        assert_error("a starts with (", 14, "expected a quoted value after `starts with`");
        assert_error("a ends with x", 12, "expected a quoted value after `ends with`");
        assert_error("a in 'x'", 5, "expected a set");
        assert_error("a not in", 8, "after `not in`");
        assert_error("a in {'x'", 9, "expected `,` or `}`");
        assert_error("a in {'x' 'y'}", 10, "expected `,` or `}`");
        assert_error("a in {,}", 6, "expected a quoted value or `}`");
        assert_error("a in {'x',,}", 10, "expected a quoted value or `}`");
        assert_error("a in {x}", 6, "expected a quoted value or `}`");
        // Incomplete boolean expressions.
        assert_error("has(a) &&", 9, "expected a selector term");
        assert_error("|| has(a)", 0, "found `||`");
        assert_error("has(a) && || has(b)", 10, "found `||`");
        assert_error("!", 1, "found end of input");
        assert_error("!= 'x'", 0, "found `!=`");
        assert_error("'x' == a", 0, "found a quoted value");
        // Functions.
        assert_error("has()", 4, "expected a label key inside `has(`");
        assert_error("has('a')", 4, "expected a label key inside `has(`");
        assert_error("has(a", 5, "expected `)` after `has(a`");
        assert_error("has(a b)", 6, "expected `)` after `has(a`");
        assert_error("all(x)", 4, "expected `)` after `all(`");
        assert_error("global(", 7, "expected `)` after `global(`");
        assert_error("foo(a)", 0, "unknown function `foo(`");
    }

    #[test]
    fn nesting_limit() {
        let nested = |depth: usize| format!("{}has(a){}", "(".repeat(depth), ")".repeat(depth));
        let ok = parse(&nested(MAX_DEPTH));
        assert_eq!(ok, parse("has(a)"));
        assert_error(&nested(MAX_DEPTH + 1), MAX_DEPTH, "nested too deeply");

        let negated = |depth: usize| format!("{}has(a)", "!".repeat(depth));
        let ok = parse(&negated(MAX_DEPTH));
        assert!(ok.matches(&labels(&[("a", "")])));
        assert_eq!(parse(&ok.to_string()), ok);
        assert_error(&negated(MAX_DEPTH + 1), MAX_DEPTH, "nested too deeply");

        let mixed = |depth: usize| format!("{}has(a){}", "!(".repeat(depth), ")".repeat(depth));
        let ok = parse(&mixed(MAX_DEPTH / 2));
        assert!(ok.matches(&labels(&[("a", "")])));
        assert_eq!(parse(&ok.to_string()), ok);
        assert_error(&mixed(MAX_DEPTH / 2 + 1), MAX_DEPTH, "nested too deeply");

        // Siblings do not add up: depth is about nesting, not the number of groups.
        let siblings = vec![nested(MAX_DEPTH); 10].join(" && ");
        assert!(parse(&siblings).matches(&labels(&[("a", "")])));

        // Far too deep input fails cleanly instead of overflowing the stack.
        assert!(nested(100_000).parse::<Selector>().is_err());
        assert!(negated(100_000).parse::<Selector>().is_err());
        assert!("(".repeat(100_000).parse::<Selector>().is_err());
    }

    #[test]
    fn deep_alternating_groups_round_trip() {
        // Every level holds an `||` inside an `&&`: the printed form must not nest deeper.
        let mut text = String::from("has(z)");
        for _ in 0..MAX_DEPTH {
            text = format!("(has(a) && {text} || has(b))");
        }
        let selector = parse(&text);
        assert_eq!(parse(&selector.to_string()), selector);
    }

    #[test]
    fn long_flat_expressions() {
        let text = (0..10_000).map(|i| format!("k{i} == 'v{i}'")).collect::<Vec<_>>().join(" || ");
        let selector = parse(&text);
        assert!(selector.matches(&labels(&[("k9999", "v9999")])));
        assert!(!selector.matches(&labels(&[("k9999", "v0")])));
        assert_eq!(parse(&selector.to_string()), selector);
    }

    #[test]
    fn arbitrary_input_never_panics() {
        // Deterministic pseudo-random strings over the selector alphabet, plus every prefix of
        // a complex selector: parsing must not panic, and whatever parses must round-trip.
        let pieces = [
            "(", ")", "{", "}", ",", "!", "=", "==", "!=", "&", "&&", "|", "||", "'", "\"", " ",
            "a", "b.c/d", "in", "not", "contains", "starts", "ends", "with", "has", "all",
            "global", "'x'", "\"y\"", "é", "\n",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut text = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = state % 12;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[usize::from(state.to_le_bytes()[3]) % pieces.len()]);
            }
            if let Ok(selector) = text.parse::<Selector>() {
                accepted += 1;
                assert_eq!(parse(&selector.to_string()), selector, "{text:?}");
            }
        }
        assert!(accepted > 0);

        let complex =
            "!(a == 'x' || b in {'1', \"2\"}) && (has(c) || d not in {}) && e ends with 'z'";
        for (i, _) in complex.char_indices() {
            let prefix = &complex[..i];
            if let Err(e) = prefix.parse::<Selector>() {
                assert!(e.position <= prefix.chars().count(), "{prefix:?}: {e}");
            }
        }
    }
}

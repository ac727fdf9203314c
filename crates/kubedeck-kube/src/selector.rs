//! Label selectors, in the query-string syntax (`app=web,tier notin (db)`)
//! and as the `LabelSelector` objects that workloads carry. Parsing, matching
//! and the canonical string form follow k8s.io/apimachinery's `labels`
//! package; kube-rs has the selector types but no parser of this syntax.

use std::fmt;

use serde_json::Value;

use crate::names::{label_value_errors, qualified_name_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

#[derive(Debug, Clone, PartialEq)]
struct Requirement {
    key: String,
    op: Op,
    /// Sorted and deduplicated, as apimachinery keeps them.
    values: Vec<String>,
}

impl Requirement {
    fn new(key: &str, op: Op, mut values: Vec<String>) -> Result<Requirement, String> {
        let errs = qualified_name_errors(key);
        if let Some(e) = errs.first() {
            return Err(format!("key: Invalid value: {key:?}: {e}"));
        }
        match op {
            Op::In | Op::NotIn if values.is_empty() => {
                return Err(
                    "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
                        .into(),
                );
            }
            Op::Equals | Op::DoubleEquals | Op::NotEquals if values.len() != 1 => {
                return Err(format!(
                    "values: Invalid value: {values:?}: exact-match compatibility requires one single value"
                ));
            }
            Op::Exists | Op::DoesNotExist if !values.is_empty() => {
                return Err(format!(
                    "values: Invalid value: {values:?}: values set must be empty for exists and does not exist"
                ));
            }
            Op::GreaterThan | Op::LessThan => {
                if values.len() != 1 {
                    return Err(format!(
                        "values: Invalid value: {values:?}: for 'Gt', 'Lt' operators, exactly one value is required"
                    ));
                }
                if values[0].parse::<i64>().is_err() {
                    return Err(format!(
                        "values[0]: Invalid value: {:?}: for 'Gt', 'Lt' operators, the value must be an integer",
                        values[0]
                    ));
                }
            }
            _ => {}
        }
        for (i, v) in values.iter().enumerate() {
            if let Some(e) = label_value_errors(v).first() {
                return Err(format!("values[{i}][{key}]: Invalid value: {v:?}: {e}"));
            }
        }
        values.sort();
        values.dedup();
        Ok(Requirement {
            key: key.to_string(),
            op,
            values,
        })
    }

    fn matches(&self, labels: &Value) -> bool {
        let value = labels.get(&self.key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        match self.op {
            Op::Equals | Op::DoubleEquals | Op::In => {
                value.is_some_and(|v| self.values.contains(&v))
            }
            Op::NotEquals | Op::NotIn => value.is_none_or(|v| !self.values.contains(&v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::GreaterThan | Op::LessThan => {
                let (Some(have), Some(want)) = (
                    value.and_then(|v| v.parse::<i64>().ok()),
                    self.values.first().and_then(|v| v.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.op == Op::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == Op::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.op {
            Op::Exists | Op::DoesNotExist => return Ok(()),
            Op::Equals => "=",
            Op::DoubleEquals => "==",
            Op::NotEquals => "!=",
            Op::In => " in ",
            Op::NotIn => " notin ",
            Op::GreaterThan => ">",
            Op::LessThan => "<",
        };
        f.write_str(op)?;
        let values = self.values.join(",");
        if matches!(self.op, Op::In | Op::NotIn) {
            write!(f, "({values})")
        } else {
            f.write_str(&values)
        }
    }
}

/// A label selector. The default (no requirements) matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
    /// A nil metav1.LabelSelector selects nothing.
    nothing: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    In,
    NotIn,
    Bang,
    NotEquals,
    Equals,
    DoubleEquals,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
    End,
}

impl Token {
    fn literal(&self) -> String {
        match self {
            Token::Ident(s) => s.clone(),
            Token::In => "in".into(),
            Token::NotIn => "notin".into(),
            Token::Bang => "!".into(),
            Token::NotEquals => "!=".into(),
            Token::Equals => "=".into(),
            Token::DoubleEquals => "==".into(),
            Token::Gt => ">".into(),
            Token::Lt => "<".into(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::Comma => ",".into(),
            Token::End => String::new(),
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

fn lex(s: &str) -> Vec<Token> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if is_special(c) {
            let next = chars.get(i + 1).copied();
            let (tok, len) = match (c, next) {
                ('!', Some('=')) => (Token::NotEquals, 2),
                ('=', Some('=')) => (Token::DoubleEquals, 2),
                ('!', _) => (Token::Bang, 1),
                ('=', _) => (Token::Equals, 1),
                ('(', _) => (Token::Open, 1),
                (')', _) => (Token::Close, 1),
                (',', _) => (Token::Comma, 1),
                ('>', _) => (Token::Gt, 1),
                _ => (Token::Lt, 1),
            };
            out.push(tok);
            i += len;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && !is_special(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        out.push(match word.as_str() {
            "in" => Token::In,
            "notin" => Token::NotIn,
            _ => Token::Ident(word),
        });
    }
    out.push(Token::End);
    out
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
}

impl Parser {
    /// The next token where a value is expected: keywords are plain words.
    fn peek_value(&self) -> Token {
        match self.toks.get(self.pos).cloned().unwrap_or(Token::End) {
            Token::In => Token::Ident("in".into()),
            Token::NotIn => Token::Ident("notin".into()),
            t => t,
        }
    }

    fn next_value(&mut self) -> Token {
        let t = self.peek_value();
        self.pos += 1;
        t
    }

    fn next_raw(&mut self) -> Token {
        let t = self.toks.get(self.pos).cloned().unwrap_or(Token::End);
        self.pos += 1;
        t
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let mut tok = self.next_value();
        let mut negated = false;
        if tok == Token::Bang {
            negated = true;
            tok = self.next_value();
        }
        let Token::Ident(key) = tok else {
            return Err(format!("found '{}', expected: identifier", tok.literal()));
        };
        if let Some(e) = qualified_name_errors(&key).first() {
            return Err(format!("key: Invalid value: {key:?}: {e}"));
        }
        if matches!(self.peek_value(), Token::End | Token::Comma) {
            let op = if negated {
                Op::DoesNotExist
            } else {
                Op::Exists
            };
            return Requirement::new(&key, op, Vec::new());
        }
        if negated {
            // `!key` takes no operator.
            let t = self.next_raw();
            return Err(format!(
                "found '{}', expected: ',' or 'end of string'",
                t.literal()
            ));
        }
        let op_tok = self.next_raw();
        let op = match op_tok {
            Token::In => Op::In,
            Token::NotIn => Op::NotIn,
            Token::Equals => Op::Equals,
            Token::DoubleEquals => Op::DoubleEquals,
            Token::NotEquals => Op::NotEquals,
            Token::Gt => Op::GreaterThan,
            Token::Lt => Op::LessThan,
            other => {
                let lit = other.literal();
                let hint = if lit == "exists" {
                    ". You may want to use the `exists` operator without parentheses"
                } else {
                    ""
                };
                return Err(format!(
                    "found '{lit}', expected: in, notin, =, ==, !=, gt, lt{hint}"
                ));
            }
        };
        let values = match op {
            Op::In | Op::NotIn => self.set_values()?,
            _ => self.exact_value()?,
        };
        Requirement::new(&key, op, values)
    }

    fn set_values(&mut self) -> Result<Vec<String>, String> {
        let t = self.next_value();
        if t != Token::Open {
            return Err(format!("found '{}' expected: '('", t.literal()));
        }
        match self.peek_value() {
            Token::Close => {
                self.pos += 1;
                Ok(vec![String::new()])
            }
            Token::Ident(_) | Token::Comma => {
                let values = self.identifiers()?;
                let t = self.next_value();
                if t != Token::Close {
                    return Err(format!("found '{}', expected: ')'", t.literal()));
                }
                Ok(values)
            }
            t => Err(format!(
                "found '{}', expected: ',', ')' or identifier",
                t.literal()
            )),
        }
    }

    /// apimachinery's `parseIdentifiersList`: `(a,,b)` and `(,a)` also
    /// select the empty value.
    fn identifiers(&mut self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        loop {
            match self.next_value() {
                Token::Ident(s) => {
                    out.push(s);
                    match self.peek_value() {
                        Token::Comma => {}
                        Token::Close => return Ok(out),
                        t => {
                            return Err(format!("found '{}', expected: ',' or ')'", t.literal()));
                        }
                    }
                }
                Token::Comma => {
                    if out.is_empty() {
                        out.push(String::new());
                    }
                    match self.peek_value() {
                        Token::Close => {
                            out.push(String::new());
                            return Ok(out);
                        }
                        Token::Comma => {
                            self.pos += 1;
                            out.push(String::new());
                        }
                        _ => {}
                    }
                }
                t => {
                    return Err(format!(
                        "found '{}', expected: ',', or identifier",
                        t.literal()
                    ));
                }
            }
        }
    }

    fn exact_value(&mut self) -> Result<Vec<String>, String> {
        match self.peek_value() {
            Token::End | Token::Comma => Ok(vec![String::new()]),
            Token::Ident(s) => {
                self.pos += 1;
                Ok(vec![s])
            }
            t => Err(format!("found '{}', expected: identifier", t.literal())),
        }
    }
}

impl LabelSelector {
    /// A selector that matches nothing, like a nil metav1.LabelSelector.
    pub fn nothing() -> LabelSelector {
        LabelSelector {
            reqs: Vec::new(),
            nothing: true,
        }
    }

    /// Parses the query-string form (`-l` / `labelSelector=`).
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut p = Parser {
            toks: lex(s),
            pos: 0,
        };
        let mut reqs = Vec::new();
        loop {
            match p.peek_value() {
                Token::Ident(_) | Token::Bang => {
                    let r = p
                        .requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    reqs.push(r);
                    match p.next_value() {
                        Token::End => break,
                        Token::Comma => {
                            let t = p.peek_value();
                            if !matches!(t, Token::Ident(_) | Token::Bang) {
                                return Err(format!(
                                    "found '{}', expected: identifier after ','",
                                    t.literal()
                                ));
                            }
                        }
                        t => {
                            return Err(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                t.literal()
                            ));
                        }
                    }
                }
                Token::End => break,
                t => {
                    return Err(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        t.literal()
                    ));
                }
            }
        }
        reqs.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            reqs,
            nothing: false,
        })
    }

    /// Converts a metav1.LabelSelector (`matchLabels` + `matchExpressions`).
    /// Null selects nothing; `{}` selects everything.
    pub fn from_object(sel: &Value) -> Result<LabelSelector, String> {
        if sel.is_null() {
            return Ok(LabelSelector::nothing());
        }
        if !sel.is_object() {
            return Err(format!("invalid label selector: {sel}"));
        }
        let mut reqs = Vec::new();
        if let Some(m) = sel["matchLabels"].as_object() {
            for (k, v) in m {
                let v = v.as_str().unwrap_or_default().to_string();
                reqs.push(Requirement::new(k, Op::Equals, vec![v])?);
            }
        }
        if let Some(exprs) = sel["matchExpressions"].as_array() {
            for e in exprs {
                let key = e["key"].as_str().unwrap_or_default();
                let values: Vec<String> = e["values"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|v| v.as_str().unwrap_or_default().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                let op_name = e["operator"].as_str().unwrap_or_default();
                let op = match op_name {
                    "In" => Op::In,
                    "NotIn" => Op::NotIn,
                    "Exists" => Op::Exists,
                    "DoesNotExist" => Op::DoesNotExist,
                    other => {
                        return Err(format!("{other:?} is not a valid label selector operator"));
                    }
                };
                reqs.push(Requirement::new(key, op, values)?);
            }
        }
        reqs.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            reqs,
            nothing: false,
        })
    }

    /// A Service's `spec.selector` map: every pair must match. Values that
    /// are not valid label values can never match, so they are kept as is.
    pub fn from_map(map: &Value) -> LabelSelector {
        let mut reqs: Vec<Requirement> = map
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| Requirement {
                        key: k.clone(),
                        op: Op::Equals,
                        values: vec![v.as_str().unwrap_or_default().to_string()],
                    })
                    .collect()
            })
            .unwrap_or_default();
        reqs.sort_by(|a, b| a.key.cmp(&b.key));
        LabelSelector {
            reqs,
            nothing: false,
        }
    }

    /// Whether `labels` (an object's `metadata.labels`, possibly null)
    /// satisfy every requirement.
    pub fn matches(&self, labels: &Value) -> bool {
        if self.nothing {
            return false;
        }
        let empty = Value::Object(Default::default());
        let labels = if labels.is_object() { labels } else { &empty };
        self.reqs.iter().all(|r| r.matches(labels))
    }

    /// True for a selector that matches everything.
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.reqs.is_empty()
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.reqs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels() -> Value {
        json!({"app": "web", "tier": "frontend", "rev": "3"})
    }

    #[test]
    fn parses_every_operator_and_matches_like_apimachinery() {
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (web,db)", true),
            ("app notin (web)", false),
            ("missing notin (x)", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app=web,tier=frontend", true),
            ("app=web, tier=backend", false),
            ("rev>2", true),
            ("rev<2", false),
            ("", true),
        ];
        for (s, want) in cases {
            let sel = LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(sel.matches(&labels()), want, "{s}");
        }
    }

    #[test]
    fn canonical_string_sorts_keys_and_values() {
        let sel = LabelSelector::parse("tier in (b,a), app=web,!gone").unwrap();
        assert_eq!(sel.to_string(), "app=web,!gone,tier in (a,b)");
        let obj = LabelSelector::from_object(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod", "dev"]}]
        }))
        .unwrap();
        assert_eq!(obj.to_string(), "app=web,env notin (dev,prod)");
        assert_eq!(
            LabelSelector::from_map(&json!({"b": "2", "a": "1"})).to_string(),
            "a=1,b=2"
        );
    }

    #[test]
    fn parse_errors_read_like_kubes() {
        assert_eq!(
            LabelSelector::parse("app in web").unwrap_err(),
            "unable to parse requirement: found 'web' expected: '('"
        );
        assert_eq!(
            LabelSelector::parse("app=web,").unwrap_err(),
            "found '', expected: identifier after ','"
        );
        assert_eq!(
            LabelSelector::parse("=web").unwrap_err(),
            "found '=', expected: !, identifier, or 'end of string'"
        );
        assert!(
            LabelSelector::parse("app exists")
                .unwrap_err()
                .contains("without parentheses")
        );
        assert!(
            LabelSelector::parse("bad key!=x")
                .unwrap_err()
                .contains("expected: in, notin")
        );
        assert!(
            LabelSelector::parse("app=not valid")
                .unwrap_err()
                .contains("expected: ',' or 'end of string'")
        );
        assert!(
            LabelSelector::parse("-bad=x")
                .unwrap_err()
                .contains("name part must")
        );
    }

    #[test]
    fn object_selectors_handle_null_empty_and_bad_operators() {
        let none = LabelSelector::from_object(&Value::Null).unwrap();
        assert!(!none.matches(&labels()));
        assert!(!none.is_empty());
        let all = LabelSelector::from_object(&json!({})).unwrap();
        assert!(all.matches(&Value::Null));
        assert!(all.is_empty());
        assert!(
            LabelSelector::from_object(
                &json!({"matchExpressions": [{"key": "a", "operator": "Foo"}]})
            )
            .unwrap_err()
            .contains("\"Foo\" is not a valid label selector operator")
        );
        assert!(
            LabelSelector::from_object(
                &json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})
            )
            .is_err()
        );
        let exists = LabelSelector::from_object(
            &json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
        )
        .unwrap();
        assert!(exists.matches(&labels()));
        assert!(!exists.matches(&json!({"app": "web"})));
    }

    #[test]
    fn service_map_selector_needs_every_pair() {
        let sel = LabelSelector::from_map(&json!({"app": "web", "tier": "frontend"}));
        assert!(sel.matches(&labels()));
        assert!(!sel.matches(&json!({"app": "web"})));
        assert!(LabelSelector::from_map(&Value::Null).is_empty());
    }
}

//! `PathExpr`: the subset of jq and JSONPath that ignore rules use to name fields.
//!
//! Supported, in jq spelling and JSONPath spelling:
//!
//! | form | jq | JSONPath |
//! |---|---|---|
//! | field | `.spec.replicas`, `.metadata.annotations."a/b"`, `.["a/b"]` | `$.spec.replicas`, `$['a/b']` |
//! | item | `.args[0]`, `.args[-1]` | `$.args[0]` |
//! | every item (or value) | `.containers[]`, `.containers[]?` | `$.containers[*]` |
//! | filter | `… \| select(.name == "web")` | `…[?(@.name == 'web')]` |
//!
//! A filter compares a relative path with `==` or `!=` against a string, number, boolean or
//! null; tests it with `startswith("x")`, `endswith("x")` or `contains("x")`
//! (`select(.name | startswith("istio"))`); or tests that it is present and not false
//! (`select(.readOnly)`). Filters combine with `and` / `or` (`&&` / `||`) and parentheses. Path
//! steps may follow a filter (`.containers[] | select(.name == "web") | .image`).

use std::fmt;

use serde_json::Value;

use super::IgnoreRuleError;

/// A location in a value: the keys and positions from the root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Loc {
    Index(usize),
    Key(String),
}

#[derive(Debug, Clone, PartialEq)]
enum PathStep {
    Field(String),
    /// A position; negative counts from the end.
    Index(i64),
    Each,
    Select(Cond),
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Equal(Value),
    NotEqual(Value),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Truthy,
}

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Test(Vec<PathStep>, Test),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

/// A parsed path expression (see the module documentation for the grammar).
///
/// ```
/// use gitops_diff::PathExpr;
/// let expr: PathExpr = r#".spec.template.spec.initContainers[] | select(.name == "istio-init")"#.parse()?;
/// assert_eq!(expr.to_string(), r#".spec.template.spec.initContainers[] | select(.name == "istio-init")"#);
/// assert!("$.spec.containers[?(@.name == 'web')].image".parse::<PathExpr>().is_ok());
/// assert!(".spec.containers[".parse::<PathExpr>().is_err());
/// # Ok::<(), gitops_diff::IgnoreRuleError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PathExpr {
    text: String,
    steps: Vec<PathStep>,
}

impl fmt::Display for PathExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for PathExpr {
    type Err = IgnoreRuleError;

    fn from_str(text: &str) -> Result<PathExpr, IgnoreRuleError> {
        let mut parser = Parser { text, pos: 0 };
        let steps = parser.expression()?;
        Ok(PathExpr { text: text.to_owned(), steps })
    }
}

impl PathExpr {
    /// The locations in `value` that the expression names, in document order.
    pub(crate) fn locate(&self, value: &Value) -> Vec<Vec<Loc>> {
        let mut current: Vec<(Vec<Loc>, &Value)> = vec![(Vec::new(), value)];
        for step in &self.steps {
            let mut next = Vec::new();
            for (path, value) in current {
                match step {
                    PathStep::Select(cond) => {
                        if cond.holds(value) {
                            next.push((path, value));
                        }
                    }
                    PathStep::Each => match value {
                        Value::Array(items) => {
                            for (i, item) in items.iter().enumerate() {
                                next.push((extend(&path, Loc::Index(i)), item));
                            }
                        }
                        Value::Object(map) => {
                            for (key, item) in map {
                                next.push((extend(&path, Loc::Key(key.clone())), item));
                            }
                        }
                        _ => {}
                    },
                    _ => {
                        if let Some((loc, child)) = single(step, value) {
                            next.push((extend(&path, loc), child));
                        }
                    }
                }
            }
            current = next;
        }
        current.into_iter().map(|(path, _)| path).filter(|path| !path.is_empty()).collect()
    }
}

fn extend(path: &[Loc], loc: Loc) -> Vec<Loc> {
    let mut out = path.to_vec();
    out.push(loc);
    out
}

/// A field or index step applied to one value.
fn single<'v>(step: &PathStep, value: &'v Value) -> Option<(Loc, &'v Value)> {
    match (step, value) {
        (PathStep::Field(name), Value::Object(map)) => map.get(name).map(|child| (Loc::Key(name.clone()), child)),
        (PathStep::Index(index), Value::Array(items)) => {
            let len = i64::try_from(items.len()).ok()?;
            let at = usize::try_from(if *index < 0 { len + index } else { *index }).ok()?;
            items.get(at).map(|child| (Loc::Index(at), child))
        }
        _ => None,
    }
}

impl Cond {
    fn holds(&self, value: &Value) -> bool {
        match self {
            Cond::And(a, b) => a.holds(value) && b.holds(value),
            Cond::Or(a, b) => a.holds(value) || b.holds(value),
            Cond::Test(path, test) => {
                let mut current = Some(value);
                for step in path {
                    current = current.and_then(|v| single(step, v)).map(|(_, child)| child);
                }
                let text = current.and_then(Value::as_str);
                match test {
                    Test::Equal(expected) => current.unwrap_or(&Value::Null) == expected,
                    Test::NotEqual(expected) => current.unwrap_or(&Value::Null) != expected,
                    Test::StartsWith(prefix) => text.is_some_and(|t| t.starts_with(prefix.as_str())),
                    Test::EndsWith(suffix) => text.is_some_and(|t| t.ends_with(suffix.as_str())),
                    Test::Contains(part) => text.is_some_and(|t| t.contains(part.as_str())),
                    Test::Truthy => !matches!(current, None | Some(Value::Null | Value::Bool(false))),
                }
            }
        }
    }
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> IgnoreRuleError {
        IgnoreRuleError::InvalidExpression { expression: self.text.to_owned(), position: self.pos, reason }
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str, reason: &'static str) -> Result<(), IgnoreRuleError> {
        if self.eat(token) { Ok(()) } else { Err(self.error(reason)) }
    }

    /// `[$] path ( '|' (select(cond) | path) )*`
    fn expression(&mut self) -> Result<Vec<PathStep>, IgnoreRuleError> {
        self.skip_ws();
        if self.rest().is_empty() {
            return Err(self.error("an expression is required"));
        }
        let jsonpath = self.eat("$");
        let mut steps = self.path(jsonpath.then_some('$'))?;
        while self.eat("|") {
            if self.eat("select") {
                self.expect("(", "expected `(` after select")?;
                let cond = self.condition()?;
                self.expect(")", "expected `)` to close select")?;
                steps.push(PathStep::Select(cond));
            } else {
                steps.extend(self.path(None)?);
            }
        }
        self.skip_ws();
        if self.pos < self.text.len() {
            return Err(self.error("unexpected text"));
        }
        Ok(steps)
    }

    /// Path steps: `.name`, `."quoted"`, `[0]`, `[]`, `[*]`, `["name"]`, `[?(cond)]`, each
    /// optionally followed by `?`. `root` is `$` or `@` when the path started with one, so that
    /// `$.a` and `@.a` read like `.a`.
    fn path(&mut self, root: Option<char>) -> Result<Vec<PathStep>, IgnoreRuleError> {
        let mut steps = Vec::new();
        let mut started = root.is_some();
        loop {
            self.skip_ws();
            match self.peek() {
                Some('.') => {
                    self.pos += 1;
                    started = true;
                    match self.peek() {
                        Some('"') => steps.push(PathStep::Field(self.string()?)),
                        Some(c) if c.is_alphanumeric() || c == '_' => steps.push(PathStep::Field(self.ident())),
                        Some('[') => {}
                        _ if steps.is_empty() && root.is_none() => {}
                        _ => return Err(self.error("expected a field name after `.`")),
                    }
                }
                Some('[') if started => {
                    self.pos += 1;
                    steps.extend(self.bracket()?);
                }
                _ => break,
            }
            if self.rest().starts_with('?') && !self.rest().starts_with("?(") {
                self.pos += 1;
            }
        }
        if !started {
            return Err(self.error("expected a path starting with `.`"));
        }
        Ok(steps)
    }

    /// The steps of a `[…]`; a JSONPath filter is two: every item, then the test.
    fn bracket(&mut self) -> Result<Vec<PathStep>, IgnoreRuleError> {
        self.skip_ws();
        let step = match self.peek() {
            Some(']') => PathStep::Each,
            Some('*') => {
                self.pos += 1;
                PathStep::Each
            }
            Some('"' | '\'') => PathStep::Field(self.string()?),
            Some('?') => {
                self.pos += 1;
                self.expect("(", "expected `(` after `?`")?;
                let cond = self.condition()?;
                self.expect(")", "expected `)` to close the filter")?;
                self.expect("]", "expected `]`")?;
                return Ok(vec![PathStep::Each, PathStep::Select(cond)]);
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let index = self.text[start..self.pos].parse().map_err(|_| self.error("invalid index"))?;
                PathStep::Index(index)
            }
            _ => return Err(self.error("expected an index, a quoted name, `*`, a filter or `]`")),
        };
        self.expect("]", "expected `]`")?;
        Ok(vec![step])
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            self.pos += self.peek().map_or(1, char::len_utf8);
        }
        self.text[start..self.pos].to_owned()
    }

    /// A double- or single-quoted string with JSON escapes.
    fn string(&mut self) -> Result<String, IgnoreRuleError> {
        self.skip_ws();
        let quote = self.peek().ok_or_else(|| self.error("expected a string"))?;
        let start = self.pos;
        self.pos += 1;
        let mut escaped = false;
        while let Some(c) = self.peek() {
            self.pos += c.len_utf8();
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                c if c == quote => {
                    let inner = &self.text[start + 1..self.pos - 1];
                    let json =
                        if quote == '"' { format!("\"{inner}\"") } else { Value::String(inner.to_owned()).to_string() };
                    return serde_json::from_str(&json).map_err(|_| self.error("invalid string escape"));
                }
                _ => {}
            }
        }
        Err(self.error("unterminated string"))
    }

    fn condition(&mut self) -> Result<Cond, IgnoreRuleError> {
        let mut left = self.conjunction()?;
        while self.eat("or") || self.eat("||") {
            left = Cond::Or(Box::new(left), Box::new(self.conjunction()?));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Cond, IgnoreRuleError> {
        let mut left = self.test()?;
        while self.eat("and") || self.eat("&&") {
            left = Cond::And(Box::new(left), Box::new(self.test()?));
        }
        Ok(left)
    }

    fn test(&mut self) -> Result<Cond, IgnoreRuleError> {
        if self.eat("(") {
            let cond = self.condition()?;
            self.expect(")", "expected `)`")?;
            return Ok(cond);
        }
        let root = if self.eat("@") { Some('@') } else { None };
        let path = self.path(root)?;
        if path.iter().any(|step| matches!(step, PathStep::Each | PathStep::Select(_))) {
            return Err(self.error("a filter compares one field: no `[]` or filters inside it"));
        }
        let test = if self.eat("==") {
            Test::Equal(self.literal()?)
        } else if self.eat("!=") {
            Test::NotEqual(self.literal()?)
        } else if self.eat("|") {
            let test: fn(String) -> Test = if self.eat("startswith") {
                Test::StartsWith
            } else if self.eat("endswith") {
                Test::EndsWith
            } else if self.eat("contains") {
                Test::Contains
            } else {
                return Err(self.error("expected startswith, endswith or contains"));
            };
            self.expect("(", "expected `(`")?;
            let argument = self.string()?;
            self.expect(")", "expected `)`")?;
            test(argument)
        } else {
            Test::Truthy
        };
        Ok(Cond::Test(path, test))
    }

    fn literal(&mut self) -> Result<Value, IgnoreRuleError> {
        self.skip_ws();
        if let Some('"' | '\'') = self.peek() {
            return Ok(Value::String(self.string()?));
        }
        let start = self.pos;
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || matches!(c, '-' | '+' | '.')) {
            self.pos += c.len_utf8();
        }
        serde_json::from_str(&self.text[start..self.pos]).map_err(|_| self.error("expected a literal"))
    }
}

/// The locations a JSON pointer (RFC 6901) names in `value`; none when it does not resolve.
pub(crate) fn pointer_location(value: &Value, pointer: &str) -> Option<Vec<Loc>> {
    let mut current = value;
    let mut path = Vec::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        match current {
            Value::Object(map) => {
                current = map.get(&token)?;
                path.push(Loc::Key(token));
            }
            Value::Array(items) => {
                let at: usize = token.parse().ok()?;
                current = items.get(at)?;
                path.push(Loc::Index(at));
            }
            _ => return None,
        }
    }
    (!path.is_empty()).then_some(path)
}

/// Removes every location from `value`. Later positions of a list go first, so earlier ones
/// keep their meaning.
pub(crate) fn remove_locations(value: &mut Value, mut locations: Vec<Vec<Loc>>) {
    locations.sort();
    locations.dedup();
    for path in locations.iter().rev() {
        let Some((last, parents)) = path.split_last() else {
            continue;
        };
        match (last, resolve_mut(value, parents)) {
            (Loc::Key(key), Some(Value::Object(map))) => {
                map.shift_remove(key);
            }
            (Loc::Index(at), Some(Value::Array(items))) if *at < items.len() => {
                items.remove(*at);
            }
            _ => {}
        }
    }
}

fn resolve_mut<'v>(value: &'v mut Value, path: &[Loc]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |current, loc| match (loc, current) {
        (Loc::Key(key), Value::Object(map)) => map.get_mut(key),
        (Loc::Index(at), Value::Array(items)) => items.get_mut(*at),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn removed(expr: &str, mut value: Value) -> Value {
        let expr: PathExpr = expr.parse().expect("parses");
        let locations = expr.locate(&value);
        remove_locations(&mut value, locations);
        value
    }

    #[test]
    fn jq_and_jsonpath_forms() {
        let pod = json!({"spec": {"containers": [
            {"name": "web", "image": "a", "ports": [1]},
            {"name": "istio-proxy", "image": "b"},
            {"name": "istio-init", "image": "c"},
        ]}, "metadata": {"annotations": {"a/b": "x", "c": "y"}}});
        let names = |v: &Value| -> Vec<String> {
            v["spec"]["containers"]
                .as_array()
                .expect("list")
                .iter()
                .map(|c| c["name"].as_str().unwrap_or("").to_owned())
                .collect()
        };
        let v = removed(r#".spec.containers[] | select(.name == "istio-proxy")"#, pod.clone());
        assert_eq!(names(&v), ["web", "istio-init"]);
        let v = removed(r#".spec.containers[] | select(.name | startswith("istio"))"#, pod.clone());
        assert_eq!(names(&v), ["web"]);
        let v = removed("$.spec.containers[?(@.name == 'web')].image", pod.clone());
        assert_eq!(v["spec"]["containers"][0], json!({"name": "web", "ports": [1]}));
        let v = removed(r#".spec.containers[] | select(.name != "web" and .image != "c") | .image"#, pod.clone());
        assert_eq!(v["spec"]["containers"][1], json!({"name": "istio-proxy"}));
        let v = removed(r#".metadata.annotations."a/b""#, pod.clone());
        assert_eq!(v["metadata"]["annotations"], json!({"c": "y"}));
        let v = removed(r#".metadata.annotations["c"]"#, pod.clone());
        assert_eq!(v["metadata"]["annotations"], json!({"a/b": "x"}));
        let v = removed(".spec.containers[-1]", pod.clone());
        assert_eq!(names(&v), ["web", "istio-proxy"]);
        let v = removed(".spec.containers[]?.ports", pod.clone());
        assert_eq!(v["spec"]["containers"][0], json!({"name": "web", "image": "a"}));
        let v = removed(".spec.containers[] | select(.ports)", pod);
        assert_eq!(names(&v), ["istio-proxy", "istio-init"]);
    }

    #[test]
    fn parse_errors_name_the_position() {
        for bad in
            ["", "spec", ".spec[", ".a | select(.b ==)", ".a | select(.b[] == 1)", ".a |", ".a b", "$.a[?(@.b == 1]"]
        {
            let err = bad.parse::<PathExpr>().expect_err(bad);
            assert!(err.to_string().contains("at byte"), "{bad}: {err}");
        }
    }

    #[test]
    fn pointers() {
        let v = json!({"a": [{"b/c": 1}, {"d": 2}]});
        assert_eq!(
            pointer_location(&v, "/a/0/b~1c"),
            Some(vec![Loc::Key("a".into()), Loc::Index(0), Loc::Key("b/c".into())])
        );
        assert_eq!(pointer_location(&v, "/a/5"), None);
        assert_eq!(pointer_location(&v, ""), None);
    }
}

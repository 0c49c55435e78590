//! Go's `text/template`, as Helm uses it.
//!
//! A [`Templates`] set holds parsed templates by name (each file, and every `define`/`block`
//! inside one), the functions they may call, the `missingkey` option and execution limits.
//! Parsing and execution follow Go's `text/template` (Go 1.25, as built into Helm v4.3.1):
//!
//! - actions, pipelines, parenthesised pipelines, variables (`:=`, `=`), field chains on maps
//!   and on [`TemplateObject`]s (fields and methods with arguments);
//! - `if`/`else if`/`else`, `with`/`else with`/`else`, `range` over lists, maps (in key
//!   order), integers, with `break`/`continue` and `else`; `define`, `template`, `block`;
//! - trim markers `{{-`/`-}}` and comments;
//! - the built-ins `and`, `or` (short-circuit), `not`, `len`, `index`, `slice`, `eq`
//!   (several arguments), `ne`, `lt`, `le`, `gt`, `ge`, `print`, `printf`, `println`, `html`,
//!   `js`, `urlquery`, `call`, with Go's `fmt` verbs and value printing;
//! - Go's error messages: `template: NAME:LINE: ...` when parsing, and
//!   `template: NAME:LINE:COL: executing "NAME" at <NODE>: ...` when executing.
//!
//! ```
//! use gitops_render::helm::template::{Templates, Value};
//!
//! let mut set = Templates::new();
//! set.parse("t", r#"{{- range $k, $v := . }}{{ $k }}={{ printf "%q" $v }} {{ end -}}"#)?;
//! let data = Value::from_json(&serde_json::json!({"b": "x", "a": 1}));
//! assert_eq!(set.execute("t", &data)?, r#"a=%!q(float64=1) b="x" "#);
//! # Ok::<(), gitops_render::helm::template::TemplateError>(())
//! ```

mod builtins;
mod exec;
mod fmt;
mod lex;
mod parse;
mod value;

use std::collections::HashMap;
use std::sync::Arc;

pub use fmt::{sprint, sprintf, sprintln};
pub use value::{MAX_DEPTH, Map, TemplateObject, Value};

use exec::State;
use parse::List;

/// What a map lookup of a missing key gives (Go's `missingkey` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default`: an invalid value, printed `<no value>`.
    #[default]
    Default,
    /// `missingkey=zero`: the map's zero element, a nil `interface{}` (Helm's default).
    Zero,
    /// `missingkey=error`: execution stops (Helm's `--strict`).
    Error,
}

/// Bounds that keep a template from exhausting memory or the stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Nesting of `template`/`include` calls (Go allows 100 000; Helm caps `include` at 1000).
    pub max_depth: usize,
    /// Bytes one execution may write.
    pub max_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 1000, max_output: 64 << 20 }
    }
}

/// Why a template could not be parsed or executed. The messages are Go's.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The text is not a valid template.
    #[error("template: {name}:{line}: {message}")]
    Parse {
        /// The template (file) name.
        name: String,
        /// The 1-based line.
        line: usize,
        /// Go's message.
        message: String,
    },
    /// Execution failed; the message names the template, line, column and node.
    #[error("{message}")]
    Exec {
        /// The whole message, as Go's `ExecError` prints it.
        message: String,
    },
    /// No template of this name.
    #[error("template: no template {0:?} associated with template set")]
    NotDefined(String),
    /// Output or depth went past [`Limits`].
    #[error("{0}")]
    Limit(String),
}

/// What a function returns when it fails.
#[derive(Debug)]
pub enum FuncError {
    /// A message; the executor prefixes it with `error calling NAME: ` and the position.
    Message(String),
    /// An error from a nested template (`include`), passed through unchanged.
    Template(TemplateError),
    /// An argument of the wrong type, reported as Go reports it before the call (without
    /// the `error calling NAME: ` prefix).
    Arg(String),
}

impl From<String> for FuncError {
    fn from(message: String) -> Self {
        FuncError::Message(message)
    }
}

impl From<&str> for FuncError {
    fn from(message: &str) -> Self {
        FuncError::Message(message.to_owned())
    }
}

/// How many arguments a function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exact(usize),
    /// This many fixed arguments and then any number (a Go variadic function).
    AtLeast(usize),
}

impl Arity {
    fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exact(k) => n == k,
            Arity::AtLeast(k) => n >= k,
        }
    }

    fn message(self, name: &str, args: usize, given: usize) -> String {
        match self {
            Arity::Exact(k) => format!("wrong number of args for {name}: want {k} got {given}"),
            Arity::AtLeast(k) => format!("wrong number of args for {name}: want at least {k} got {args}"),
        }
    }
}

/// The body of a template function.
pub type FuncBody = dyn Fn(&mut Call<'_, '_>, Vec<Value>) -> Result<Value, FuncError> + Send + Sync;

/// The Go type of a function parameter, which decides how an argument is checked before the
/// call, as Go's reflective call checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `interface{}`: anything; an invalid value arrives as [`Value::Nil`].
    Any,
    /// `reflect.Value` (Go's built-ins): anything, [`Value::Missing`] kept.
    Value,
    /// `string`.
    Str,
    /// `int`.
    Int,
    /// `bool`.
    Bool,
    /// `map[string]interface{}`: a map, or a nil map ([`Value::Nil`]) for an invalid value.
    Map,
}

impl Param {
    /// Checks and converts one argument; the error is Go's message.
    fn check(self, v: Value) -> Result<Value, String> {
        let want = match self {
            Param::Any => return Ok(if matches!(v, Value::Missing) { Value::Nil } else { v }),
            Param::Value => return Ok(v),
            Param::Str if matches!(v, Value::String(_)) => return Ok(v),
            Param::Int if matches!(v, Value::Int(_)) => return Ok(v),
            Param::Bool if matches!(v, Value::Bool(_)) => return Ok(v),
            Param::Map if matches!(v, Value::Map(_)) => return Ok(v),
            Param::Map if matches!(v, Value::Missing) => return Ok(Value::Nil),
            Param::Map => "map[string]interface {}",
            Param::Str => "string",
            Param::Int => "int",
            Param::Bool => "bool",
        };
        Err(match v {
            Value::Missing => format!("invalid value; expected {want}"),
            Value::Nil => format!("wrong type for value; expected {want}; got interface {{}}"),
            other => format!("wrong type for value; expected {want}; got {}", other.type_name()),
        })
    }
}

/// A function templates can call.
#[derive(Clone)]
pub struct Func {
    arity: Arity,
    /// Parameter types; the last one repeats for a variadic function. Empty means all `Any`.
    params: Arc<[Param]>,
    f: Arc<FuncBody>,
}

impl Func {
    /// A function taking `arity` arguments of any type (`interface{}` parameters).
    pub fn new(
        arity: Arity,
        f: impl Fn(&mut Call<'_, '_>, Vec<Value>) -> Result<Value, FuncError> + Send + Sync + 'static,
    ) -> Self {
        Func { arity, params: Arc::from([]), f: Arc::new(f) }
    }

    /// Declares the parameter types (the last repeats for a variadic function); arguments of
    /// another type fail before the call with Go's "wrong type for value" error.
    #[must_use]
    pub fn params(mut self, params: &[Param]) -> Self {
        self.params = Arc::from(params);
        self
    }

    fn raw(
        arity: Arity,
        f: impl Fn(&mut Call<'_, '_>, Vec<Value>) -> Result<Value, FuncError> + Send + Sync + 'static,
    ) -> Self {
        Func::new(arity, f).params(&[Param::Value])
    }

    /// The type of parameter `i`.
    fn param(&self, i: usize) -> Param {
        self.params.get(i).or(self.params.last()).copied().unwrap_or(Param::Any)
    }
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Func").field("arity", &self.arity).finish_non_exhaustive()
    }
}

/// Functions by name.
pub type FuncMap = HashMap<String, Func>;

/// What a function sees of the execution calling it.
pub struct Call<'s, 'a> {
    state: &'s mut State<'a>,
}

impl Call<'_, '_> {
    /// Executes the template `name` with `data` as dot, nested in this execution (Helm's
    /// `include`); depth and output limits apply.
    ///
    /// # Errors
    ///
    /// [`FuncError::Template`] when the template is not defined or fails.
    pub fn execute_template(&mut self, name: &str, data: Value) -> Result<String, FuncError> {
        let Some(tree) = self.state.set.trees.get(name).cloned() else {
            return Err(FuncError::Message(format!("template: no template \"{name}\" associated with template set")));
        };
        self.state.execute_tree(tree, data).map_err(FuncError::Template)
    }

    /// Parses `text` as template `name` in a copy of the current set (so it sees, and may
    /// redefine, the set's templates without changing them) and executes it nested in this
    /// execution (Helm's `tpl`).
    ///
    /// # Errors
    ///
    /// [`FuncError::Template`] with the parse or execution error.
    pub fn execute_text(&mut self, name: &str, text: &str, data: Value) -> Result<String, FuncError> {
        let mut set = self.state.set.clone();
        set.parse(name, text).map_err(FuncError::Template)?;
        let tree = set
            .trees
            .get(name)
            .cloned()
            .ok_or_else(|| FuncError::Template(TemplateError::NotDefined(name.to_owned())))?;
        self.state.execute_in(&set, tree, data).map_err(FuncError::Template)
    }

    /// The template set being executed.
    #[must_use]
    pub fn templates(&self) -> &Templates {
        self.state.set
    }

    /// How deeply templates are nested at this call.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.state.depth
    }
}

/// One parsed template.
#[derive(Debug)]
pub(crate) struct Tree {
    /// The template's name (a file name, or a `define`'s name).
    name: String,
    /// The name of the text it was parsed from (Go's `ParseName`), used in locations.
    parse_name: Arc<str>,
    text: Arc<str>,
    root: Arc<List>,
}

/// A set of named templates sharing functions and options.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    trees: HashMap<String, Arc<Tree>>,
    funcs: Arc<FuncMap>,
    missing_key: MissingKey,
    limits: Limits,
}

impl Templates {
    /// An empty set with only the built-in functions.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds functions (before parsing: parsing checks function names).
    #[must_use]
    pub fn with_funcs(mut self, funcs: FuncMap) -> Self {
        Arc::make_mut(&mut self.funcs).extend(funcs);
        self
    }

    /// Sets the `missingkey` option.
    #[must_use]
    pub fn missing_key(mut self, missing_key: MissingKey) -> Self {
        self.missing_key = missing_key;
        self
    }

    /// Sets the execution limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether a function (built-in or added) of this name exists.
    #[must_use]
    pub fn has_func(&self, name: &str) -> bool {
        builtins::is_builtin(name) || self.funcs.contains_key(name)
    }

    /// Whether a template of this name exists.
    #[must_use]
    pub fn has_template(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// Parses `text` as template `name`, adding the templates it defines. As in Go, a later
    /// definition replaces an earlier one unless its body is empty.
    ///
    /// # Errors
    ///
    /// [`TemplateError::Parse`] with Go's message and line.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), TemplateError> {
        let parsed = parse::parse(text, &|f| self.has_func(f)).map_err(|e| TemplateError::Parse {
            name: name.to_owned(),
            line: e.line,
            message: e.message,
        })?;
        let parse_name: Arc<str> = Arc::from(name);
        let text: Arc<str> = Arc::from(text);
        let mut add = |tname: String, root: List| {
            let empty = root.iter().all(|n| matches!(n, parse::Node::Text(t) if t.trim().is_empty()));
            if empty && self.trees.contains_key(&tname) {
                return;
            }
            let tree = Tree {
                name: tname.clone(),
                parse_name: Arc::clone(&parse_name),
                text: Arc::clone(&text),
                root: Arc::new(root),
            };
            self.trees.insert(tname, Arc::new(tree));
        };
        for (dname, list) in parsed.defines {
            add(dname, list);
        }
        add(name.to_owned(), parsed.root);
        Ok(())
    }

    /// Executes template `name` with `data` as dot and `$`.
    ///
    /// # Errors
    ///
    /// [`TemplateError::NotDefined`], or Go's execution error.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, TemplateError> {
        let tree = self.trees.get(name).cloned().ok_or_else(|| TemplateError::NotDefined(name.to_owned()))?;
        let mut state = State::new(self, tree, 0);
        state.run(data.clone())?;
        Ok(state.out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn data(json: &serde_json::Value) -> Value {
        Value::from_json(json)
    }

    #[test]
    fn recursion_and_output_are_capped() {
        let mut set = Templates::new().limits(Limits { max_depth: 50, max_output: 1 << 20 });
        set.parse("t", r#"{{ define "loop" }}{{ template "loop" . }}{{ end }}{{ template "loop" . }}"#)
            .expect("the template is valid");
        let err = set.execute("t", &Value::Missing).expect_err("the template fails").to_string();
        assert!(err.ends_with("exceeded maximum template depth (50)"), "{err}");

        let mut set = Templates::new().limits(Limits { max_depth: 100, max_output: 1000 });
        set.parse("t", "{{ range 2000 }}x{{ end }}").expect("the template is valid");
        assert!(matches!(set.execute("t", &Value::Missing), Err(TemplateError::Limit(_))));
    }

    #[test]
    fn missing_key_modes() {
        let d = data(&serde_json::json!({"a": {}}));
        let run = |mode| {
            let mut set = Templates::new().missing_key(mode);
            set.parse("t", "{{ .a.b }}").expect("the template is valid");
            set.execute("t", &d)
        };
        assert_eq!(run(MissingKey::Default).expect("the template is valid"), "<no value>");
        assert_eq!(run(MissingKey::Zero).expect("the template is valid"), "<no value>");
        assert_eq!(
            run(MissingKey::Error).expect_err("the template fails").to_string(),
            "template: t:1:5: executing \"t\" at <.a.b>: map has no entry for key \"b\""
        );
    }

    #[derive(Debug)]
    struct Files;

    impl TemplateObject for Files {
        fn type_name(&self) -> &'static str {
            "engine.files"
        }
        fn field(&self, _name: &str) -> Option<Value> {
            None
        }
        fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
            (name == "Get").then(|| Ok(Value::string(format!("content of {}", args[0].to_go_string()))))
        }
    }

    #[test]
    fn objects_answer_methods_and_functions_can_include() {
        let include = Func::new(Arity::Exact(2), |call, args| {
            let name = args[0].as_str().unwrap_or_default().to_owned();
            call.execute_template(&name, args[1].clone()).map(Value::from)
        });
        let funcs = FuncMap::from([("include".to_owned(), include)]);
        let mut set = Templates::new().with_funcs(funcs);
        set.parse("t", r#"{{ define "x" }}[{{ .Files.Get "a.txt" }}]{{ end }}{{ include "x" . | printf "%q" }}"#)
            .expect("the template is valid");
        let top = Value::map(BTreeMap::from([("Files".to_owned(), Value::Object(Arc::new(Files)))]));
        assert_eq!(set.execute("t", &top).expect("the template is valid"), "\"[content of a.txt]\"");
        let err =
            set.parse("u", "{{ .Files.Nope }}").and_then(|()| set.execute("u", &top)).expect_err("the template fails");
        assert!(err.to_string().ends_with("can't evaluate field Nope in type engine.files"), "{err}");
    }

    #[test]
    fn later_definitions_replace_earlier_unless_empty() {
        let mut set = Templates::new();
        set.parse("a", r#"{{ define "x" }}one{{ end }}"#).expect("the template is valid");
        set.parse("b", r#"{{ define "x" }}two{{ end }}{{ define "y" }}{{ end }}"#).expect("the template is valid");
        set.parse("c", r#"{{ define "x" }}  {{ end }}{{ template "x" }}"#).expect("the template is valid");
        assert_eq!(set.execute("c", &Value::Missing).expect("the template is valid"), "two");
        assert!(set.has_template("y"));
        assert!(matches!(set.execute("nope", &Value::Missing), Err(TemplateError::NotDefined(_))));
    }
}

//! The executor: walks a parse tree over data, as Go's `text/template` `state` does.

use std::sync::Arc;

use super::parse::{Arg, Branch, Command, List, Node, Number, Pipe};
use super::value::Value;
use super::{Call, FuncMap, MissingKey, Param, TemplateError, Templates, Tree, builtins};

/// How a walk ended.
enum Flow {
    Normal,
    Break,
    Continue,
}

/// The current dot, and whether Go would see it as an `interface{}` (for error messages).
#[derive(Clone)]
struct Dot {
    value: Value,
    iface: bool,
}

type EResult<T> = Result<T, TemplateError>;

/// One execution: the output, variables and budget.
pub(crate) struct State<'a> {
    pub set: &'a Templates,
    tree: Arc<Tree>,
    vars: Vec<(String, Value)>,
    pub depth: usize,
    pub out: String,
    /// Position of the node being evaluated, for errors.
    node_pos: usize,
    node_text: String,
}

impl<'a> State<'a> {
    pub(super) fn new(set: &'a Templates, tree: Arc<Tree>, depth: usize) -> Self {
        State { set, tree, vars: Vec::new(), depth, out: String::new(), node_pos: 0, node_text: String::new() }
    }

    /// Runs the tree with `data` as dot and `$`.
    pub(super) fn run(&mut self, data: Value) -> EResult<()> {
        self.vars = vec![("$".to_owned(), data.clone())];
        let root = Arc::clone(&self.tree.root);
        self.walk(&Dot { value: data, iface: false }, &root)?;
        Ok(())
    }

    fn funcs(&self) -> &FuncMap {
        &self.set.funcs
    }

    fn at(&mut self, pos: usize, text: impl FnOnce() -> String) {
        self.node_pos = pos;
        self.node_text = text();
    }

    /// An execution error at the current node, formatted as Go formats it.
    pub(super) fn error(&self, message: impl std::fmt::Display) -> TemplateError {
        let text = &self.tree.text[..self.node_pos.min(self.tree.text.len())];
        let line = 1 + text.matches('\n').count();
        let col = text.rfind('\n').map_or(self.node_pos, |i| self.node_pos - i - 1);
        let context = &self.node_text;
        TemplateError::Exec {
            message: format!(
                "template: {}:{line}:{col}: executing \"{}\" at <{context}>: {message}",
                self.tree.parse_name, self.tree.name
            ),
        }
    }

    fn write(&mut self, s: &str) -> EResult<()> {
        if self.out.len() + s.len() > self.set.limits.max_output {
            return Err(TemplateError::Limit(format!("template output exceeds {} bytes", self.set.limits.max_output)));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn walk(&mut self, dot: &Dot, list: &List) -> EResult<Flow> {
        for node in list {
            match node {
                Node::Text(t) => self.write(t)?,
                Node::Action(pipe) => {
                    let v = self.eval_pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        self.print_value(pipe, &v)?;
                    }
                }
                Node::If(b) => {
                    if let flow @ (Flow::Break | Flow::Continue) = self.walk_if_with(dot, b, false)? {
                        return Ok(flow);
                    }
                }
                Node::With(b) => {
                    if let flow @ (Flow::Break | Flow::Continue) = self.walk_if_with(dot, b, true)? {
                        return Ok(flow);
                    }
                }
                Node::Range(b) => self.walk_range(dot, b)?,
                Node::Template { pos, name, pipe } => self.walk_template(dot, *pos, name, pipe.as_ref())?,
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn print_value(&mut self, pipe: &Pipe, v: &Value) -> EResult<()> {
        match v {
            Value::Missing | Value::Nil => self.write("<no value>"),
            Value::String(s) => self.write(s),
            Value::Object(o) if o.type_name().starts_with("func") => {
                self.at(pipe.pos, || pipe.to_string());
                Err(self.error(format!("can't print {pipe} of type {}", o.type_name())))
            }
            Value::Object(o) => {
                let s = o.print();
                self.write(&s)
            }
            other => {
                let s = other.to_go_string();
                self.write(&s)
            }
        }
    }

    fn walk_if_with(&mut self, dot: &Dot, b: &Branch, with: bool) -> EResult<Flow> {
        let mark = self.vars.len();
        let v = self.eval_pipeline(dot, &b.pipe)?;
        let flow = if v.is_true() {
            if with { self.walk(&Dot { value: v, iface: false }, &b.list)? } else { self.walk(dot, &b.list)? }
        } else if let Some(else_list) = &b.else_list {
            self.walk(dot, else_list)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Dot, b: &Branch) -> EResult<()> {
        let mark = self.vars.len();
        let v = self.eval_pipeline(dot, &b.pipe)?;
        // The declared variables are set per iteration, not to the whole value.
        self.vars.truncate(mark);
        let mut ran = false;
        let mut iterate = |this: &mut Self, key: Value, elem: Value| -> EResult<bool> {
            ran = true;
            let inner = this.vars.len();
            match b.pipe.decl.len() {
                1 => this.bind(&b.pipe, 0, elem.clone())?,
                2 => {
                    this.bind(&b.pipe, 0, key)?;
                    this.bind(&b.pipe, 1, elem.clone())?;
                }
                _ => {}
            }
            let flow = this.walk(&Dot { value: elem, iface: true }, &b.list)?;
            this.vars.truncate(inner);
            Ok(matches!(flow, Flow::Break))
        };
        match &v {
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if iterate(self, Value::Int(i64::try_from(i).unwrap_or(i64::MAX)), item.clone())? {
                        break;
                    }
                }
            }
            Value::Map(entries) => {
                // Go takes the sorted keys first, then looks each one up as it gets there: an
                // entry the body changes is seen changed, one it deletes is an invalid value.
                for k in entries.keys() {
                    let item = entries.get(&k).unwrap_or(Value::Missing);
                    if iterate(self, Value::string(k.as_str()), item)? {
                        break;
                    }
                }
            }
            Value::Object(o) if o.entries().is_some() => {
                for (k, item) in o.entries().unwrap_or_default() {
                    if iterate(self, Value::string(k), item)? {
                        break;
                    }
                }
            }
            Value::Int(n) => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.error(format!("can't use {n} to iterate over more than one variable")));
                }
                for i in 0..*n {
                    if iterate(self, Value::Int(i), Value::Int(i))? {
                        break;
                    }
                }
            }
            Value::Missing | Value::Nil => {}
            other => {
                return Err(self.error(format!("range can't iterate over {}", other.to_go_string())));
            }
        }
        if !ran && let Some(else_list) = &b.else_list {
            self.walk(dot, else_list)?;
        }
        self.vars.truncate(mark);
        Ok(())
    }

    fn bind(&mut self, pipe: &Pipe, index: usize, value: Value) -> EResult<()> {
        let name = &pipe.decl[index];
        if pipe.is_assign {
            self.set_var(name, value)
        } else {
            self.vars.push((name.clone(), value));
            Ok(())
        }
    }

    fn set_var(&mut self, name: &str, value: Value) -> EResult<()> {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = value;
            Ok(())
        } else {
            Err(self.error(format!("undefined variable: {name}")))
        }
    }

    fn walk_template(&mut self, dot: &Dot, pos: usize, name: &str, pipe: Option<&Pipe>) -> EResult<()> {
        self.at(pos, || match pipe {
            Some(p) => format!("{{{{template \"{name}\" {p}}}}}"),
            None => format!("{{{{template \"{name}\"}}}}"),
        });
        let Some(tree) = self.set.trees.get(name).cloned() else {
            return Err(self.error(format!("template \"{name}\" not defined")));
        };
        let data = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Missing,
        };
        let _ = dot;
        let out = self.execute_tree(tree, data)?;
        self.write(&out)
    }

    /// Runs another template in a nested state (for `template` and `include`).
    pub(super) fn execute_tree(&mut self, tree: Arc<Tree>, data: Value) -> EResult<String> {
        let set = self.set;
        self.execute_in(set, tree, data)
    }

    /// Runs a tree of another set (a copy made by `tpl`) nested in this execution.
    pub(super) fn execute_in(&mut self, set: &Templates, tree: Arc<Tree>, data: Value) -> EResult<String> {
        if self.depth >= self.set.limits.max_depth {
            return Err(self.error(format!("exceeded maximum template depth ({})", self.set.limits.max_depth)));
        }
        let mut inner = State::new(set, tree, self.depth + 1);
        inner.run(data)?;
        if self.out.len() + inner.out.len() > self.set.limits.max_output {
            return Err(TemplateError::Limit(format!("template output exceeds {} bytes", self.set.limits.max_output)));
        }
        Ok(inner.out)
    }

    fn eval_pipeline(&mut self, dot: &Dot, pipe: &Pipe) -> EResult<Value> {
        self.at(pipe.pos, || pipe.to_string());
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            // A nil interface{} becomes an invalid value, as Go's evalPipeline digs into it.
            value = Some(if matches!(v, Value::Nil) { Value::Missing } else { v });
        }
        let value = value.unwrap_or_default();
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn eval_command(&mut self, dot: &Dot, cmd: &Command, fin: Option<Value>) -> EResult<Value> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at(first.pos(), || first.to_string());
                self.eval_field_chain(dot, dot.clone(), idents, &cmd.args, fin.as_ref())
            }
            Arg::Chain { node, fields, .. } => {
                self.at(first.pos(), || first.to_string());
                let base = self.eval_arg(dot, node)?;
                let base = if matches!(base, Value::Nil) { Value::Missing } else { base };
                self.eval_field_chain(dot, Dot { value: base, iface: false }, fields, &cmd.args, fin.as_ref())
            }
            Arg::Variable { idents, .. } => {
                self.at(first.pos(), || first.to_string());
                let v = self.var(&idents[0])?;
                if idents.len() == 1 {
                    self.not_a_function(cmd, fin.as_ref())?;
                    return Ok(v);
                }
                self.eval_field_chain(dot, Dot { value: v, iface: false }, &idents[1..], &cmd.args, fin.as_ref())
            }
            Arg::Ident { name, .. } => {
                self.at(first.pos(), || first.to_string());
                self.eval_function(dot, name, cmd, fin)
            }
            Arg::Pipe(p) => {
                self.not_a_function(cmd, fin.as_ref())?;
                self.eval_pipeline(dot, p)
            }
            Arg::Nil(pos) => {
                self.at(*pos, || "nil".to_owned());
                Err(self.error("nil is not a command"))
            }
            _ => {
                self.at(first.pos(), || first.to_string());
                self.not_a_function(cmd, fin.as_ref())?;
                self.eval_arg(dot, first)
            }
        }
    }

    fn not_a_function(&self, cmd: &Command, fin: Option<&Value>) -> EResult<()> {
        if cmd.args.len() > 1 || fin.is_some() {
            return Err(self.error(format!("can't give argument to non-function {}", cmd.args[0])));
        }
        Ok(())
    }

    fn var(&self, name: &str) -> EResult<Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| self.error(format!("undefined variable: {name}")))
    }

    /// Evaluates an argument to a value (Go's `evalArg` for `interface{}`/`reflect.Value`).
    fn eval_arg(&mut self, dot: &Dot, arg: &Arg) -> EResult<Value> {
        self.at(arg.pos(), || arg.to_string());
        Ok(match arg {
            Arg::Dot(_) => dot.value.clone(),
            Arg::Nil(_) => Value::Nil,
            Arg::Bool(_, b) => Value::Bool(*b),
            Arg::Number { value: Number::Int(i), .. } => Value::Int(*i),
            Arg::Number { value: Number::Float(f), .. } => Value::Float(*f),
            Arg::Str { value, .. } => Value::string(value.as_str()),
            Arg::Field { idents, .. } => self.eval_field_chain(dot, dot.clone(), idents, &[], None)?,
            Arg::Variable { idents, .. } => {
                let v = self.var(&idents[0])?;
                if idents.len() == 1 {
                    v
                } else {
                    self.eval_field_chain(dot, Dot { value: v, iface: false }, &idents[1..], &[], None)?
                }
            }
            Arg::Chain { node, fields, .. } => {
                let base = self.eval_arg(dot, node)?;
                let base = if matches!(base, Value::Nil) { Value::Missing } else { base };
                self.eval_field_chain(dot, Dot { value: base, iface: false }, fields, &[], None)?
            }
            Arg::Pipe(p) => self.eval_pipeline(dot, p)?,
            Arg::Ident { name, .. } => {
                let cmd = Command { pos: arg.pos(), args: vec![arg.clone()] };
                self.eval_function(dot, name, &cmd, None)?
            }
        })
    }

    /// `.a.b.c` from `receiver`; the last name gets the command's arguments and the final value.
    fn eval_field_chain(
        &mut self,
        dot: &Dot,
        receiver: Dot,
        idents: &[String],
        args: &[Arg],
        fin: Option<&Value>,
    ) -> EResult<Value> {
        let mut receiver = receiver;
        let n = idents.len();
        for (i, name) in idents.iter().enumerate() {
            let last = i + 1 == n;
            let v = if last {
                self.eval_field(dot, name, &receiver, args, fin.cloned())?
            } else {
                self.eval_field(dot, name, &receiver, &[], None)?
            };
            receiver = Dot { value: v, iface: true };
        }
        Ok(receiver.value)
    }

    fn eval_field(
        &mut self,
        dot: &Dot,
        name: &str,
        receiver: &Dot,
        args: &[Arg],
        fin: Option<Value>,
    ) -> EResult<Value> {
        let has_args = args.len() > 1 || fin.is_some();
        match &receiver.value {
            Value::Missing => {
                if self.set.missing_key == MissingKey::Error {
                    return Err(self.error(format!("nil data; no entry for key \"{name}\"")));
                }
                Ok(Value::Missing)
            }
            Value::Nil => Err(self.error(format!("nil pointer evaluating interface {{}}.{name}"))),
            Value::Object(o) => {
                let o = Arc::clone(o);
                if has_args || o.field(name).is_none() {
                    let mut values = Vec::with_capacity(args.len());
                    for a in args.iter().skip(1) {
                        values.push(self.eval_arg(dot, a)?);
                    }
                    values.extend(fin);
                    if let Some(result) = o.call(name, &values) {
                        return result.map_err(|e| self.error(format!("error calling {name}: {e}")));
                    }
                }
                match o.field(name) {
                    Some(v) if !has_args => Ok(v),
                    Some(_) => Err(self.error(format!("{name} has arguments but cannot be invoked as function"))),
                    None => Err(self.error(format!("can't evaluate field {name} in type {}", o.type_name()))),
                }
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.error(format!("{name} is not a method but has arguments")));
                }
                match m.get(name) {
                    Some(v) => Ok(v),
                    None => match self.set.missing_key {
                        MissingKey::Default => Ok(Value::Missing),
                        MissingKey::Zero => Ok(Value::Nil),
                        MissingKey::Error => Err(self.error(format!("map has no entry for key \"{name}\""))),
                    },
                }
            }
            other => {
                let ty = if receiver.iface { "interface {}" } else { other.type_name() };
                Err(self.error(format!("can't evaluate field {name} in type {ty}")))
            }
        }
    }

    fn eval_function(&mut self, dot: &Dot, name: &str, cmd: &Command, fin: Option<Value>) -> EResult<Value> {
        let args = &cmd.args[1..];
        let given = args.len() + usize::from(fin.is_some());
        if (name == "and" || name == "or") && !self.funcs().contains_key(name) {
            if given == 0 {
                return Err(self.error(format!("wrong number of args for {name}: want at least 1 got 0")));
            }
            let mut v = Value::Missing;
            for a in args {
                v = self.eval_arg(dot, a)?;
                if v.is_true() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }
        let func = if let Some(f) = self.funcs().get(name) {
            f.clone()
        } else if let Some(b) = builtins::lookup(name) {
            b
        } else {
            return Err(self.error(format!("\"{name}\" is not a defined function")));
        };
        if !func.arity.accepts(given) {
            return Err(self.error(func.arity.message(name, args.len(), given)));
        }
        let mut values = Vec::with_capacity(given);
        for (i, a) in args.iter().enumerate() {
            let param = func.param(i);
            self.at(a.pos(), || a.to_string());
            literal_fits(a, param).map_err(|m| self.error(m))?;
            if param == Param::Map && matches!(a, Arg::Nil(_)) {
                // A literal nil is a nil map (Go's evalArg gives the type's zero value).
                values.push(Value::Nil);
                continue;
            }
            let v = self.eval_arg(dot, a)?;
            values.push(param.check(v).map_err(|m| self.error(m))?);
        }
        if let Some(f) = fin {
            values.push(func.param(args.len()).check(f).map_err(|m| self.error(m))?);
        }
        let f = Arc::clone(&func.f);
        let mut call = Call { state: self };
        // Go moves to the command's node only when the call fails: after a successful call the
        // position stays at the last argument (an outer type error is reported there).
        match f(&mut call, values) {
            Ok(v) => Ok(v),
            Err(super::FuncError::Message(m)) => {
                self.at(cmd.pos, || cmd.to_string());
                Err(self.error(format!("error calling {name}: {m}")))
            }
            Err(super::FuncError::Template(e)) => Err(e),
            Err(super::FuncError::Arg(m)) => {
                self.at(cmd.pos, || cmd.to_string());
                Err(self.error(m))
            }
        }
    }
}

/// Go's check of a literal argument against a typed parameter (`evalInteger`, `evalString`,
/// `evalBool`), made before evaluation: `expected integer; found 2.5`.
fn literal_fits(arg: &Arg, param: Param) -> Result<(), String> {
    let (want, fits) = match (param, arg) {
        (Param::Int, Arg::Number { value: Number::Int(_), .. })
        | (Param::Str, Arg::Str { .. })
        | (Param::Bool, Arg::Bool(..)) => return Ok(()),
        (Param::Int, _) => ("integer", false),
        (Param::Str, _) => ("string", false),
        (Param::Bool, _) => ("bool", false),
        (Param::Map, Arg::Number { .. } | Arg::Str { .. } | Arg::Bool(..)) => {
            return Err(format!("can't handle {arg} for arg of type map[string]interface {{}}"));
        }
        (Param::Any | Param::Value | Param::Map, _) => ("", true),
    };
    match arg {
        Arg::Nil(_) if !fits => Err(format!("cannot assign nil to {}", if want == "integer" { "int" } else { want })),
        Arg::Number { .. } | Arg::Str { .. } | Arg::Bool(..) if !fits => Err(format!("expected {want}; found {arg}")),
        _ => Ok(()),
    }
}

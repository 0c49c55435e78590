//! The parser: Go `text/template`'s parse trees, with its parse-time checks (undefined
//! functions and variables, `break` outside `range`, misplaced `else`/`end`).

use std::fmt;

use super::lex::{LexError, Tok, Token, lex};

/// A list of nodes.
pub(crate) type List = Vec<Node>;

/// A node of a template body.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Action(Pipe),
    If(Branch),
    Range(Branch),
    With(Branch),
    Template { pos: usize, name: String, pipe: Option<Pipe> },
    Break,
    Continue,
}

/// `if`, `range` and `with`: a pipeline, a body and an optional `else` body.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

/// A pipeline with its declared variables.
#[derive(Debug, Clone)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub decl: Vec<String>,
    pub is_assign: bool,
    pub cmds: Vec<Command>,
}

/// One stage of a pipeline.
#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `$x.a.b`: `idents[0]` is the variable name with its `$`.
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    /// `(pipe).a.b`.
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    Number {
        pos: usize,
        text: String,
        value: Number,
    },
    Str {
        pos: usize,
        raw: String,
        value: String,
    },
    Ident {
        pos: usize,
        name: String,
    },
    Pipe(Box<Pipe>),
}

/// A number literal's value, typed as Go's constant conversion types it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

impl Arg {
    pub(super) fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool(pos, _)
            | Arg::Number { pos, .. }
            | Arg::Str { pos, .. }
            | Arg::Ident { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => idents.iter().try_for_each(|i| write!(f, ".{i}")),
            Arg::Variable { idents, .. } => f.write_str(&idents.join(".")),
            Arg::Chain { node, fields, .. } => {
                if matches!(**node, Arg::Pipe(_)) {
                    write!(f, "({node})")?;
                } else {
                    write!(f, "{node}")?;
                }
                fields.iter().try_for_each(|i| write!(f, ".{i}"))
            }
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number { text, .. } => f.write_str(text),
            Arg::Str { raw, .. } => f.write_str(raw),
            Arg::Ident { name, .. } => f.write_str(name),
            Arg::Pipe(p) => write!(f, "({p})"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{arg}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(f, "{} {} ", self.decl.join(", "), if self.is_assign { "=" } else { ":=" })?;
        }
        for (i, cmd) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

/// A parse failure: Go's message and the line it names.
#[derive(Debug)]
pub(crate) struct ParseError {
    pub message: String,
    pub line: usize,
}

impl From<LexError> for ParseError {
    fn from(e: LexError) -> Self {
        ParseError { message: e.message, line: e.line }
    }
}

/// The result of parsing one text: its body and the templates it defines.
pub(crate) struct Parsed {
    pub root: List,
    pub defines: Vec<(String, List)>,
}

/// Parses `text`; `has_func` says which function names exist.
pub(crate) fn parse(text: &str, has_func: &dyn Fn(&str) -> bool) -> Result<Parsed, ParseError> {
    let (tokens, lex_error) = lex(text);
    let mut parser =
        Parser { tokens, at: 0, vars: vec!["$".to_owned()], range_depth: 0, has_func, defines: Vec::new(), lex_error };
    let root = parser.top()?;
    Ok(Parsed { root, defines: parser.defines })
}

/// What ended a list.
enum End {
    Close,
    Else(usize),
    Eof,
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    vars: Vec<String>,
    range_depth: usize,
    has_func: &'a dyn Fn(&str) -> bool,
    defines: Vec<(String, List)>,
    /// The lexing error the `LexFail` token stands for.
    lex_error: Option<LexError>,
}

type PResult<T> = Result<T, ParseError>;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        self.at += 1;
        t
    }

    fn skip_space(&mut self) {
        while self.peek().tok == Tok::Space {
            self.at += 1;
        }
    }

    fn next_non_space(&mut self) -> Token {
        self.skip_space();
        self.next()
    }

    fn peek_non_space(&mut self) -> &Token {
        self.skip_space();
        self.peek()
    }

    #[allow(clippy::unused_self)]
    fn error<T>(&self, line: usize, message: impl Into<String>) -> PResult<T> {
        Err(ParseError { message: message.into(), line })
    }

    fn unexpected<T>(&self, token: &Token, context: &str) -> PResult<T> {
        if let (Tok::LexFail, Some(e)) = (&token.tok, &self.lex_error) {
            return Err(e.clone().into());
        }
        let shown = match &token.tok {
            Tok::Right => "<}}>".to_owned(),
            Tok::Eof => "EOF".to_owned(),
            Tok::Ident(s) => format!("<{s}>"),
            Tok::Str(_, raw) => format!("\"{raw}\""),
            other => describe(other),
        };
        self.error(token.line, format!("unexpected {shown} in {context}"))
    }

    fn top(&mut self) -> PResult<List> {
        let mut list = Vec::new();
        loop {
            if self.peek().tok == Tok::Left {
                let start = self.peek().clone();
                self.at += 1;
                if matches!(&self.peek_non_space().tok, Tok::Ident(s) if s == "define") {
                    self.at += 1;
                    self.define(&start)?;
                    continue;
                }
                self.at -= 1;
                while self.tokens[self.at].tok != Tok::Left {
                    self.at -= 1;
                }
            }
            let line = self.peek().line;
            match self.text_or_action()? {
                Ok(node) => list.extend(node),
                Err(End::Eof) => return Ok(list),
                Err(End::Close) => return self.error(line, "unexpected {{end}}"),
                Err(End::Else(l)) => return self.error(l, "unexpected {{else}}"),
            }
        }
    }

    fn define(&mut self, start: &Token) -> PResult<()> {
        let name_tok = self.next_non_space();
        let Tok::Str(name, _) = name_tok.tok.clone() else {
            return self.unexpected(&name_tok, "define clause");
        };
        let close = self.next_non_space();
        if close.tok != Tok::Right {
            return self.unexpected(&close, "define clause");
        }
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_owned()]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        match end {
            End::Close => {}
            End::Else(line) => return self.error(line, "unexpected <else> in define clause"),
            End::Eof => return self.error(start.line, "unexpected EOF"),
        }
        self.defines.push((name, list));
        Ok(())
    }

    /// Parses until `{{end}}` or `{{else}}` (consumed) or EOF.
    fn item_list(&mut self) -> PResult<(List, End)> {
        let mut list = Vec::new();
        loop {
            match self.text_or_action()? {
                Ok(node) => list.extend(node),
                Err(end) => return Ok((list, end)),
            }
        }
    }

    /// One text or action; `Err(End)` when a list ends here.
    fn text_or_action(&mut self) -> PResult<Result<Option<Node>, End>> {
        let t = self.next();
        match t.tok {
            Tok::Text(s) => Ok(Ok(Some(Node::Text(s)))),
            Tok::Comment => Ok(Ok(None)),
            Tok::Left => self.action(&t),
            Tok::Eof => Ok(Err(End::Eof)),
            _ => self.unexpected(&t, "input"),
        }
    }

    fn action(&mut self, left: &Token) -> PResult<Result<Option<Node>, End>> {
        let t = self.peek_non_space().clone();
        if let Tok::Ident(word) = &t.tok {
            let keyword = word.as_str();
            match keyword {
                "end" | "else" | "if" | "range" | "with" | "template" | "block" | "break" | "continue" | "define" => {
                    self.at += 1;
                }
                _ => {}
            }
            match keyword {
                "end" => {
                    self.expect_right("end")?;
                    return Ok(Err(End::Close));
                }
                "else" => {
                    // `else if`/`else with` keep the right delimiter for the nested control.
                    let next = self.peek_non_space().clone();
                    if !matches!(&next.tok, Tok::Ident(s) if s == "if" || s == "with") {
                        self.expect_right("else")?;
                    }
                    return Ok(Err(End::Else(t.line)));
                }
                "if" => return Ok(Ok(Some(Node::If(self.control("if", true)?)))),
                "with" => return Ok(Ok(Some(Node::With(self.control("with", true)?)))),
                "range" => {
                    self.range_depth += 1;
                    let b = self.control("range", false);
                    self.range_depth -= 1;
                    return Ok(Ok(Some(Node::Range(b?))));
                }
                "break" | "continue" => {
                    if self.range_depth == 0 {
                        return self.error(t.line, format!("{{{{{keyword}}}}} outside {{{{range}}}}"));
                    }
                    let close = self.next_non_space();
                    if close.tok != Tok::Right {
                        return self.unexpected(&close, &format!("{{{{{keyword}}}}}"));
                    }
                    return Ok(Ok(Some(if keyword == "break" { Node::Break } else { Node::Continue })));
                }
                "template" | "block" => return self.template(&t, keyword == "block").map(|n| Ok(Some(n))),
                "define" => return self.error(left.line, "unexpected <define> in command"),
                _ => {}
            }
        }
        let pipe = self.pipeline("command", &Tok::Right)?;
        Ok(Ok(Some(Node::Action(pipe))))
    }

    fn expect_right(&mut self, context: &str) -> PResult<()> {
        let close = self.next_non_space();
        if close.tok == Tok::Right { Ok(()) } else { self.unexpected(&close, context) }
    }

    fn control(&mut self, context: &str, allow_else_chain: bool) -> PResult<Branch> {
        let mark = self.vars.len();
        let pipe = self.pipeline(context, &Tok::Right)?;
        let (list, end) = self.item_list()?;
        let mut else_list = None;
        match end {
            End::Close => {}
            End::Eof => return self.error(self.peek().line, "unexpected EOF"),
            End::Else(_) => {
                let next = self.peek_non_space().clone();
                let chained = matches!(&next.tok, Tok::Ident(s) if allow_else_chain && s == context);
                if chained {
                    // `{{else if x}}` is `{{else}}{{if x}}...{{end}}{{end}}`, sharing the `end`.
                    self.at += 1;
                    let inner = self.control(context, true)?;
                    let node = if context == "if" { Node::If(inner) } else { Node::With(inner) };
                    else_list = Some(vec![node]);
                } else {
                    if matches!(&next.tok, Tok::Ident(s) if s == "if" || s == "with") {
                        return self.unexpected(&next, context);
                    }
                    let (list, end) = self.item_list()?;
                    match end {
                        End::Close => {}
                        End::Else(line) => return self.error(line, "expected end; found {{else}}"),
                        End::Eof => return self.error(self.peek().line, "unexpected EOF"),
                    }
                    else_list = Some(list);
                }
            }
        }
        self.vars.truncate(mark);
        Ok(Branch { pipe, list, else_list })
    }

    fn template(&mut self, start: &Token, block: bool) -> PResult<Node> {
        let context = if block { "block clause" } else { "template clause" };
        let name_tok = self.next_non_space();
        let Tok::Str(name, _) = name_tok.tok.clone() else {
            return self.unexpected(&name_tok, context);
        };
        let pipe = if self.peek_non_space().tok == Tok::Right {
            self.at += 1;
            None
        } else {
            Some(self.pipeline(context, &Tok::Right)?)
        };
        if block {
            let saved = std::mem::replace(&mut self.vars, vec!["$".to_owned()]);
            let (list, end) = self.item_list()?;
            self.vars = saved;
            if !matches!(end, End::Close) {
                return self.error(start.line, "unexpected EOF");
            }
            self.defines.push((name.clone(), list));
        }
        Ok(Node::Template { pos: name_tok.pos, name, pipe })
    }

    fn pipeline(&mut self, context: &str, end: &Tok) -> PResult<Pipe> {
        let start = self.peek_non_space().clone();
        let mut pipe = Pipe { pos: start.pos, decl: Vec::new(), is_assign: false, cmds: Vec::new() };
        // Declarations: `$x :=`, `$x =`, and in range `$i, $v :=`.
        if let Tok::Variable(name) = &start.tok {
            let save = self.at;
            self.at += 1;
            let after = self.peek_non_space().clone();
            match after.tok {
                Tok::Declare | Tok::Assign => {
                    self.at += 1;
                    pipe.is_assign = after.tok == Tok::Assign;
                    pipe.decl.push(name.clone());
                    self.vars.push(name.clone());
                }
                Tok::Comma if context == "range" => {
                    self.at += 1;
                    let second = self.next_non_space();
                    let Tok::Variable(second_name) = second.tok.clone() else {
                        return self.error(second.line, "range can only initialize variables");
                    };
                    let op = self.next_non_space();
                    if !matches!(op.tok, Tok::Declare | Tok::Assign) {
                        return self.error(op.line, "range can only initialize variables");
                    }
                    pipe.is_assign = op.tok == Tok::Assign;
                    pipe.decl.push(name.clone());
                    pipe.decl.push(second_name.clone());
                    self.vars.push(name.clone());
                    self.vars.push(second_name);
                }
                _ => self.at = save,
            }
        }
        loop {
            let t = self.peek_non_space().clone();
            if &t.tok == end {
                self.at += 1;
                break;
            }
            match t.tok {
                Tok::Bool(_)
                | Tok::Char(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::Str(..)
                | Tok::Variable(_)
                | Tok::LeftParen => pipe.cmds.push(self.command()?),
                _ => return self.unexpected(&t, context),
            }
        }
        if pipe.cmds.is_empty() {
            return self.error(start.line, format!("missing value for {context}"));
        }
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(cmd.args[0], Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number { .. } | Arg::Str { .. }) {
                return self.error(start.line, format!("non executable command in pipeline stage {}", i + 1));
            }
        }
        Ok(pipe)
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command { pos, args: Vec::new() };
        loop {
            self.skip_space();
            if let Some(operand) = self.operand()? {
                cmd.args.push(operand);
            }
            let t = self.next();
            match t.tok {
                Tok::Space => {}
                Tok::Right | Tok::RightParen => {
                    self.at -= 1;
                    break;
                }
                Tok::Pipe => break,
                _ => return self.unexpected(&t, "operand"),
            }
        }
        if cmd.args.is_empty() {
            return self.error(self.peek().line, "empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(term) = self.term()? else { return Ok(None) };
        let mut fields = Vec::new();
        // Go positions a chained node at its first chained field.
        let chain_pos = self.peek().pos;
        while let Tok::Field(name) = &self.peek().tok {
            fields.push(name.clone());
            self.at += 1;
        }
        if fields.is_empty() {
            return Ok(Some(term));
        }
        let pos = chain_pos;
        Ok(Some(match term {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable { pos, idents }
            }
            Arg::Bool(..) | Arg::Str { .. } | Arg::Number { .. } | Arg::Nil(_) | Arg::Dot(_) => {
                let line = self.tokens[self.at - 1].line;
                return self.error(line, format!("unexpected . after term \"{term}\""));
            }
            other => Arg::Chain { pos, node: Box::new(other), fields },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        Ok(Some(match t.tok {
            Tok::Ident(name) => {
                if !(self.has_func)(&name) {
                    return self.error(t.line, format!("function \"{name}\" not defined"));
                }
                Arg::Ident { pos: t.pos, name }
            }
            Tok::Dot => Arg::Dot(t.pos),
            Tok::Nil => Arg::Nil(t.pos),
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return self.error(t.line, format!("undefined variable \"{name}\""));
                }
                Arg::Variable { pos: t.pos, idents: vec![name] }
            }
            Tok::Field(name) => Arg::Field { pos: t.pos, idents: vec![name] },
            Tok::Bool(b) => Arg::Bool(t.pos, b),
            Tok::Number(text) => {
                let value = number(&text)
                    .ok_or(ParseError { message: format!("illegal number syntax: \"{text}\""), line: t.line })?;
                Arg::Number { pos: t.pos, text, value }
            }
            Tok::Char(c) => {
                Arg::Number { pos: t.pos, text: format!("'{c}'"), value: Number::Int(i64::from(u32::from(c))) }
            }
            Tok::LeftParen => {
                let pipe = self.pipeline("parenthesized pipeline", &Tok::RightParen)?;
                Arg::Pipe(Box::new(pipe))
            }
            Tok::Str(value, raw) => Arg::Str { pos: t.pos, raw, value },
            _ => {
                self.at -= 1;
                return Ok(None);
            }
        }))
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Text(s) => format!("{s:?}"),
        Tok::Left => "\"{{\"".to_owned(),
        Tok::Pipe => "\"|\"".to_owned(),
        Tok::LeftParen => "\"(\"".to_owned(),
        Tok::RightParen => "\")\"".to_owned(),
        Tok::Declare => "\":=\"".to_owned(),
        Tok::Assign => "\"=\"".to_owned(),
        Tok::Comma => "\",\"".to_owned(),
        Tok::Dot => "\".\"".to_owned(),
        Tok::Field(s) => format!("<.{s}>"),
        Tok::Variable(s) | Tok::Number(s) => format!("<{s}>"),
        Tok::Bool(b) => format!("<{b}>"),
        Tok::Nil => "<nil>".to_owned(),
        Tok::Char(c) => format!("<'{c}'>"),
        Tok::Punct(c) => format!("{:?}", c.to_string()),
        _ => format!("{tok:?}"),
    }
}

/// Types a number literal as Go's template parser does: integers (decimal, hex, octal, binary)
/// are `int`; anything with a fraction or exponent is `float64`.
fn number(text: &str) -> Option<Number> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(hex) = lower.strip_prefix("0x") {
        if hex.contains(['.', 'p']) { None } else { i64::from_str_radix(hex, 16).ok() }
    } else if let Some(oct) = lower.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()
    } else if let Some(bin) = lower.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else if body.contains(['.', 'e', 'E']) {
        None
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()
    } else {
        body.parse::<i64>().ok()
    };
    if let Some(i) = int {
        return Some(Number::Int(if negative { -i } else { i }));
    }
    let f: f64 = body.parse().ok()?;
    if f.is_infinite() {
        return None;
    }
    Some(Number::Float(if negative { -f } else { f }))
}

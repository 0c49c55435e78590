//! The lexer: Go `text/template`'s items, with trim markers applied to the text around actions.

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// Plain text outside actions (after trimming).
    Text(String),
    /// `{{` (a trim marker has already been applied to the text before it).
    Left,
    /// `}}`.
    Right,
    /// A comment action `{{/* ... */}}`; it produces no output.
    Comment,
    Space,
    Pipe,
    LeftParen,
    RightParen,
    Declare,
    Assign,
    Comma,
    /// `.` alone.
    Dot,
    /// `.name` (without the dot).
    Field(String),
    /// `$` or `$name` (with the dollar).
    Variable(String),
    /// A function name or keyword.
    Ident(String),
    Bool(bool),
    Nil,
    /// A number literal as written.
    Number(String),
    /// A character constant's value.
    Char(char),
    /// Any other printable ASCII character inside an action (Go's `itemChar`), which only the
    /// parser rejects.
    Punct(char),
    /// Where lexing failed; the parser reports the lexing error when it gets here, so an
    /// earlier parse error wins, as with Go's lazy lexer.
    LexFail,
    /// A string literal's value (escapes processed) and how it was written.
    Str(String, String),
    Eof,
}

/// A token and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offset in the template text.
    pub pos: usize,
    /// 1-based line.
    pub line: usize,
}

/// A lexing failure: the message and the line.
#[derive(Debug, Clone)]
pub(crate) struct LexError {
    pub message: String,
    pub line: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

pub(crate) fn lex(text: &str) -> (Vec<Token>, Option<LexError>) {
    let mut lexer = Lexer { src: text, pos: 0, tokens: Vec::new(), parens: 0 };
    match lexer.run() {
        Ok(()) => (lexer.tokens, None),
        Err(e) => {
            lexer.tokens.push(Token { tok: Tok::LexFail, pos: lexer.pos.min(text.len()), line: e.line });
            (lexer.tokens, Some(e))
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    parens: usize,
}

impl Lexer<'_> {
    fn line_at(&self, pos: usize) -> usize {
        1 + self.src[..pos].matches('\n').count()
    }

    fn push(&mut self, tok: Tok, pos: usize) {
        let line = self.line_at(pos);
        self.tokens.push(Token { tok, pos, line });
    }

    fn error<T>(&self, pos: usize, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError { message: message.into(), line: self.line_at(pos) })
    }

    fn run(&mut self) -> Result<(), LexError> {
        let bytes = self.src.as_bytes();
        let mut trim_next = false;
        loop {
            let start = self.pos;
            let next = self.src[start..].find("{{").map_or(self.src.len(), |i| start + i);
            let mut text = &self.src[start..next];
            if trim_next {
                text = text.trim_start_matches([' ', '\t', '\r', '\n']);
            }
            let left_trim = next < self.src.len()
                && bytes.get(next + 2) == Some(&b'-')
                && bytes.get(next + 3).is_some_and(|&c| is_space(c));
            if left_trim {
                text = text.trim_end_matches([' ', '\t', '\r', '\n']);
            }
            if !text.is_empty() {
                let offset = text.as_ptr() as usize - self.src.as_ptr() as usize;
                self.push(Tok::Text(text.to_owned()), offset);
            }
            if next >= self.src.len() {
                self.push(Tok::Eof, self.src.len());
                return Ok(());
            }
            self.pos = next + 2;
            if left_trim {
                self.pos += 2;
            }
            trim_next = self.action(next)?;
        }
    }

    /// Lexes one action starting at `start` (the `{{`); returns whether it ended with `-}}`.
    fn action(&mut self, start: usize) -> Result<bool, LexError> {
        let bytes = self.src.as_bytes();
        // A comment must follow the delimiter (and trim marker) directly.
        let after_space = self.pos;
        if self.src[after_space..].starts_with("/*") {
            let Some(end) = self.src[after_space + 2..].find("*/") else {
                return self.error(start, "unclosed comment");
            };
            let mut p = after_space + 2 + end + 2;
            let mut trim = false;
            if self.src[p..].starts_with(" -}}")
                || self.src[p..].starts_with("\t-}}")
                || self.src[p..].starts_with("\n-}}")
            {
                trim = true;
                p += 2;
            }
            if !self.src[p..].starts_with("}}") {
                return self.error(start, "comment ends before closing delimiter");
            }
            self.push(Tok::Comment, start);
            self.pos = p + 2;
            return Ok(trim);
        }
        self.push(Tok::Left, start);
        self.parens = 0;
        loop {
            let p = self.pos;
            if p >= bytes.len() {
                return self.error(start, "unclosed action");
            }
            if self.src[p..].starts_with("}}") {
                if self.parens > 0 {
                    return self.error(p, "unclosed left paren");
                }
                self.push(Tok::Right, p);
                self.pos = p + 2;
                return Ok(false);
            }
            let c = bytes[p];
            if is_space(c) {
                if bytes.get(p + 1) == Some(&b'-') && self.src[p + 2..].starts_with("}}") {
                    if self.parens > 0 {
                        return self.error(p, "unclosed left paren");
                    }
                    self.push(Tok::Right, p + 2);
                    self.pos = p + 4;
                    return Ok(true);
                }
                let mut q = p;
                while q < bytes.len() && is_space(bytes[q]) {
                    if bytes.get(q + 1) == Some(&b'-') && self.src[q + 2..].starts_with("}}") {
                        break;
                    }
                    q += 1;
                }
                if q == p {
                    q += 1;
                }
                self.push(Tok::Space, p);
                self.pos = q;
                continue;
            }
            self.item(p)?;
        }
    }

    fn item(&mut self, p: usize) -> Result<(), LexError> {
        let bytes = self.src.as_bytes();
        let c = bytes[p];
        match c {
            b'|' => self.simple(Tok::Pipe, p, 1),
            b'(' => {
                self.parens += 1;
                self.simple(Tok::LeftParen, p, 1);
            }
            b')' => {
                if self.parens == 0 {
                    return self.error(p, "unexpected right paren");
                }
                self.parens -= 1;
                self.simple(Tok::RightParen, p, 1);
            }
            b',' => self.simple(Tok::Comma, p, 1),
            b':' => {
                if bytes.get(p + 1) != Some(&b'=') {
                    return self.error(p, "expected :=");
                }
                self.simple(Tok::Declare, p, 2);
            }
            b'=' => self.simple(Tok::Assign, p, 1),
            b'"' => self.quoted(p)?,
            b'`' => {
                let Some(end) = self.src[p + 1..].find('`') else {
                    return self.error(p, "unterminated raw quoted string");
                };
                let raw = &self.src[p..p + end + 2];
                self.push(Tok::Str(self.src[p + 1..p + 1 + end].to_owned(), raw.to_owned()), p);
                self.pos = p + end + 2;
            }
            b'\'' => self.char_constant(p)?,
            b'$' => {
                let len = self.word_len(p + 1);
                self.push(Tok::Variable(self.src[p..p + 1 + len].to_owned()), p);
                self.pos = p + 1 + len;
            }
            b'.' if !bytes.get(p + 1).is_some_and(u8::is_ascii_digit) => {
                let len = self.word_len(p + 1);
                if len == 0 {
                    self.simple(Tok::Dot, p, 1);
                } else {
                    self.push(Tok::Field(self.src[p + 1..p + 1 + len].to_owned()), p);
                    self.pos = p + 1 + len;
                }
            }
            b'.' | b'+' | b'-' | b'0'..=b'9' => self.number(p)?,
            _ => {
                let len = self.word_len(p);
                if len == 0 {
                    let ch = self.src[p..].chars().next().unwrap_or('\0');
                    if ch.is_ascii_graphic() {
                        self.simple(Tok::Punct(ch), p, 1);
                        return Ok(());
                    }
                    return self.error(p, format!("unrecognized character in action: {}", go_char(ch)));
                }
                let word = &self.src[p..p + len];
                let tok = match word {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    "nil" => Tok::Nil,
                    _ => Tok::Ident(word.to_owned()),
                };
                self.push(tok, p);
                self.pos = p + len;
            }
        }
        Ok(())
    }

    fn simple(&mut self, tok: Tok, p: usize, len: usize) {
        self.push(tok, p);
        self.pos = p + len;
    }

    fn word_len(&self, from: usize) -> usize {
        self.src[from..].char_indices().find(|&(_, c)| !is_alnum(c)).map_or(self.src.len() - from, |(i, _)| i)
    }

    fn number(&mut self, p: usize) -> Result<(), LexError> {
        let bytes = self.src.as_bytes();
        let mut q = p;
        if matches!(bytes[q], b'+' | b'-') {
            q += 1;
        }
        let mut digits: &[u8] = b"0123456789_";
        let mut exponent = b"eE";
        if bytes[q] == b'0' && q + 1 < bytes.len() {
            match bytes[q + 1] {
                b'x' | b'X' => {
                    q += 2;
                    digits = b"0123456789abcdefABCDEF_";
                    exponent = b"pP";
                }
                b'o' | b'O' => {
                    q += 2;
                    digits = b"01234567_";
                }
                b'b' | b'B' => {
                    q += 2;
                    digits = b"01_";
                }
                _ => {}
            }
        }
        let run = |mut q: usize, set: &[u8]| {
            while q < bytes.len() && set.contains(&bytes[q]) {
                q += 1;
            }
            q
        };
        q = run(q, digits);
        if q < bytes.len() && bytes[q] == b'.' {
            q = run(q + 1, digits);
        }
        if q < bytes.len() && exponent.contains(&bytes[q]) {
            q += 1;
            if q < bytes.len() && matches!(bytes[q], b'+' | b'-') {
                q += 1;
            }
            q = run(q, b"0123456789_");
        }
        let end_ok = self.src[q..].chars().next().is_none_or(|c| !is_alnum(c) && c != '.');
        let text = &self.src[p..q];
        if !end_ok || text == "+" || text == "-" || text == "." {
            let bad_end = q + self.src[q..].chars().next().map_or(0, char::len_utf8);
            return self.error(p, format!("bad number syntax: \"{}\"", &self.src[p..bad_end.min(self.src.len())]));
        }
        self.push(Tok::Number(text.to_owned()), p);
        self.pos = q;
        Ok(())
    }

    /// The offset of the quote closing the literal opened at `p` (escapes skipped).
    fn closing(&self, p: usize, quote: u8, unterminated: &str) -> Result<usize, LexError> {
        let bytes = self.src.as_bytes();
        let mut q = p + 1;
        loop {
            match bytes.get(q) {
                None | Some(b'\n') => return self.error(p, unterminated),
                Some(b'\\') => q += 2,
                Some(&c) if c == quote => return Ok(q),
                Some(_) => q += 1,
            }
        }
    }

    fn quoted(&mut self, p: usize) -> Result<(), LexError> {
        let q = self.closing(p, b'"', "unterminated quoted string")?;
        let raw = &self.src[p..=q];
        let value = unquote(&raw[1..raw.len() - 1])
            .ok_or(LexError { message: format!("invalid syntax in string {raw}"), line: self.line_at(p) })?;
        self.push(Tok::Str(value, raw.to_owned()), p);
        self.pos = q + 1;
        Ok(())
    }

    fn char_constant(&mut self, p: usize) -> Result<(), LexError> {
        let q = self.closing(p, b'\'', "unterminated character constant")?;
        let inner = &self.src[p + 1..q];
        let value = if inner == "\"" { Some("\"".to_owned()) } else { unquote(inner) };
        let mut chars = value.as_deref().unwrap_or("").chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => {
                self.push(Tok::Char(c), p);
                self.pos = q + 1;
                Ok(())
            }
            _ => self.error(p, format!("malformed character constant: {}", &self.src[p..=q])),
        }
    }
}

/// Go's `%#U`-like rendering of a character in lexer errors.
fn go_char(c: char) -> String {
    format!("U+{:04X} '{c}'", u32::from(c))
}

/// Processes Go's escapes in an interpreted string literal's body.
pub(crate) fn unquote(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(n).collect();
                if hex.len() != n {
                    return None;
                }
                let code = u32::from_str_radix(&hex, 16).ok()?;
                if e == 'x' {
                    // A byte; only ASCII keeps the result valid UTF-8 here.
                    out.push(char::from_u32(code)?);
                } else {
                    out.push(char::from_u32(code)?);
                }
            }
            '0'..='7' => {
                let rest: String = chars.by_ref().take(2).collect();
                let code = u32::from_str_radix(&format!("{e}{rest}"), 8).ok()?;
                out.push(char::from_u32(code)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

//! Sprig's string functions.

use std::fmt::Write as _;

use base64::Engine as _;
use sha2::Digest as _;

use super::{add, strval, want_int, want_str};
use crate::helm::template::{Arity, FuncError, FuncMap, Value, sprintf};

#[allow(clippy::unnecessary_wraps)] // every function body returns this
fn s(v: impl Into<String>) -> Result<Value, FuncError> {
    Ok(Value::from(v.into()))
}

/// Go's `strings.Title` (deprecated, as Sprig uses it): upper-cases the first letter of words.
fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev_letter = false;
    for c in text.chars() {
        if prev_letter {
            out.push(c);
        } else {
            out.extend(c.to_uppercase());
        }
        prev_letter = c.is_alphanumeric() || c == '_' || (!c.is_ascii() && !c.is_whitespace());
    }
    out
}

fn indent(spaces: i64, text: &str) -> String {
    let pad = " ".repeat(usize::try_from(spaces).unwrap_or(0));
    format!("{pad}{}", text.replace('\n', &format!("\n{pad}")))
}

pub(super) fn regex(pattern: &str) -> Result<regex::Regex, FuncError> {
    regex::Regex::new(pattern).map_err(|e| FuncError::Message(format!("error parsing regexp: {e}")))
}

pub(super) fn register(map: &mut FuncMap) {
    add(map, "quote", Arity::AtLeast(0), |_, a| {
        let parts: Vec<String> =
            a.iter().filter(|v| !v.is_nil()).map(|v| sprintf("%q", &[Value::from(strval(v))])).collect();
        s(parts.join(" "))
    });
    add(map, "squote", Arity::AtLeast(0), |_, a| {
        let parts: Vec<String> = a.iter().filter(|v| !v.is_nil()).map(|v| format!("'{}'", strval(v))).collect();
        s(parts.join(" "))
    });
    add(map, "cat", Arity::AtLeast(0), |_, a| {
        let parts: Vec<String> = a.iter().filter(|v| !v.is_nil()).map(strval).collect();
        s(parts.join(" "))
    });
    add(map, "upper", Arity::Exact(1), |_, a| s(want_str(&a[0])?.to_uppercase()));
    add(map, "lower", Arity::Exact(1), |_, a| s(want_str(&a[0])?.to_lowercase()));
    add(map, "title", Arity::Exact(1), |_, a| s(title(want_str(&a[0])?)));
    add(map, "trim", Arity::Exact(1), |_, a| s(want_str(&a[0])?.trim()));
    add(map, "nospace", Arity::Exact(1), |_, a| {
        s(want_str(&a[0])?.chars().filter(|c| !c.is_whitespace()).collect::<String>())
    });
    add(map, "trimAll", Arity::Exact(2), |_, a| {
        let cut = want_str(&a[0])?.to_owned();
        s(want_str(&a[1])?.trim_matches(|c| cut.contains(c)))
    });
    add(map, "trimPrefix", Arity::Exact(2), |_, a| {
        let p = want_str(&a[0])?.to_owned();
        let t = want_str(&a[1])?;
        s(t.strip_prefix(p.as_str()).unwrap_or(t))
    });
    add(map, "trimSuffix", Arity::Exact(2), |_, a| {
        let p = want_str(&a[0])?.to_owned();
        let t = want_str(&a[1])?;
        s(t.strip_suffix(p.as_str()).unwrap_or(t))
    });
    add(map, "contains", Arity::Exact(2), |_, a| Ok(Value::Bool(want_str(&a[1])?.contains(want_str(&a[0])?))));
    add(map, "hasPrefix", Arity::Exact(2), |_, a| Ok(Value::Bool(want_str(&a[1])?.starts_with(want_str(&a[0])?))));
    add(map, "hasSuffix", Arity::Exact(2), |_, a| Ok(Value::Bool(want_str(&a[1])?.ends_with(want_str(&a[0])?))));
    add(map, "replace", Arity::Exact(3), |_, a| {
        let (old, new) = (want_str(&a[0])?, want_str(&a[1])?);
        let src = want_str(&a[2])?;
        s(if old.is_empty() { go_replace_empty(src, new) } else { src.replace(old, new) })
    });
    add(map, "repeat", Arity::Exact(2), |_, a| {
        let n = want_int(&a[0])?;
        let text = want_str(&a[1])?;
        let n = usize::try_from(n).map_err(|_| FuncError::Message("strings: negative Repeat count".to_owned()))?;
        if text.len().saturating_mul(n) > 16 << 20 {
            return Err(FuncError::Message("strings: Repeat output length overflow".to_owned()));
        }
        s(text.repeat(n))
    });
    add(map, "indent", Arity::Exact(2), |_, a| s(indent(want_int(&a[0])?, want_str(&a[1])?)));
    add(map, "nindent", Arity::Exact(2), |_, a| s(format!("\n{}", indent(want_int(&a[0])?, want_str(&a[1])?))));
    add(map, "trunc", Arity::Exact(2), |_, a| {
        let c = want_int(&a[0])?;
        let text = want_str(&a[1])?;
        let len = i64::try_from(text.len()).unwrap_or(i64::MAX);
        let cut = |i: i64| usize::try_from(i).unwrap_or(0);
        let out = if c < 0 && len + c > 0 {
            text.get(cut(len + c)..)
        } else if c >= 0 && len > c {
            text.get(..cut(c))
        } else {
            Some(text)
        };
        s(out.unwrap_or(text))
    });
    add(map, "substr", Arity::Exact(3), |_, a| {
        let (start, end) = (want_int(&a[0])?, want_int(&a[1])?);
        let text = want_str(&a[2])?;
        let len = text.len();
        let clamp = |i: i64| usize::try_from(i).unwrap_or(0).min(len);
        let out = if start < 0 {
            text.get(..clamp(end))
        } else if end < 0 || end > i64::try_from(len).unwrap_or(i64::MAX) {
            text.get(clamp(start)..)
        } else {
            text.get(clamp(start)..clamp(end).max(clamp(start)))
        };
        s(out.unwrap_or_default())
    });
    add(map, "abbrev", Arity::Exact(2), |_, a| {
        let width = want_int(&a[0])?;
        let text = want_str(&a[1])?;
        let w = usize::try_from(width).unwrap_or(0);
        if width < 4 || text.len() <= w {
            return s(text);
        }
        s(format!("{}...", text.get(..w - 3).unwrap_or(text)))
    });
    add(map, "plural", Arity::Exact(3), |_, a| {
        s(if want_int(&a[2])? == 1 { want_str(&a[0])? } else { want_str(&a[1])? })
    });
    add(map, "toString", Arity::Exact(1), |_, a| s(strval(&a[0])));
    add(map, "split", Arity::Exact(2), |_, a| {
        let sep = want_str(&a[0])?.to_owned();
        let parts = go_split(want_str(&a[1])?, &sep);
        Ok(Value::map(parts.into_iter().enumerate().map(|(i, p)| (format!("_{i}"), Value::from(p))).collect()))
    });
    add(map, "splitList", Arity::Exact(2), |_, a| {
        let sep = want_str(&a[0])?.to_owned();
        Ok(Value::list(go_split(want_str(&a[1])?, &sep).into_iter().map(Value::from).collect()))
    });
    add(map, "join", Arity::Exact(2), |_, a| {
        let sep = want_str(&a[0])?.to_owned();
        let parts: Vec<String> = match &a[1] {
            Value::List(items) => items.iter().filter(|v| !v.is_nil()).map(strval).collect(),
            Value::String(s) => vec![s.to_string()],
            Value::Missing | Value::Nil => Vec::new(),
            other => vec![strval(other)],
        };
        s(parts.join(&sep))
    });
    add(map, "b64enc", Arity::Exact(1), |_, a| s(base64::engine::general_purpose::STANDARD.encode(want_str(&a[0])?)));
    add(map, "b64dec", Arity::Exact(1), |_, a| {
        match base64::engine::general_purpose::STANDARD.decode(want_str(&a[0])?) {
            Ok(bytes) => s(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) => s(e.to_string()),
        }
    });
    add(map, "sha256sum", Arity::Exact(1), |_, a| {
        let digest = sha2::Sha256::digest(want_str(&a[0])?.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in digest {
            let _ = write!(hex, "{b:02x}");
        }
        s(hex)
    });
    add(map, "regexMatch", Arity::Exact(2), |_, a| {
        let re = want_str(&a[0])?.to_owned();
        Ok(Value::Bool(regex::Regex::new(&re).is_ok_and(|r| r.is_match(want_str(&a[1]).unwrap_or_default()))))
    });
    add(map, "regexReplaceAll", Arity::Exact(3), |_, a| {
        let re = regex(want_str(&a[0])?)?;
        s(re.replace_all(want_str(&a[1])?, want_str(&a[2])?).into_owned())
    });
    add(map, "regexReplaceAllLiteral", Arity::Exact(3), |_, a| {
        let re = regex(want_str(&a[0])?)?;
        s(re.replace_all(want_str(&a[1])?, regex::NoExpand(want_str(&a[2])?)).into_owned())
    });
    add(map, "regexFind", Arity::Exact(2), |_, a| {
        let re = regex(want_str(&a[0])?)?;
        s(re.find(want_str(&a[1])?).map_or("", |m| m.as_str()))
    });
}

/// Go's `strings.Split`: an empty separator splits into characters.
fn go_split(text: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() { text.chars().map(String::from).collect() } else { text.split(sep).map(str::to_owned).collect() }
}

/// Go's `strings.Replace` with an empty `old`: `new` goes before every character and at the end.
fn go_replace_empty(src: &str, new: &str) -> String {
    let mut out = String::with_capacity(src.len() * (new.len() + 1) + new.len());
    for c in src.chars() {
        out.push_str(new);
        out.push(c);
    }
    out.push_str(new);
    out
}

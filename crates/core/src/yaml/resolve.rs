//! How a plain (unquoted) YAML scalar becomes a typed value, exactly as the Go readers decide.
//!
//! Two schemas are modelled, because the tools we must equal read YAML differently:
//! - [`Schema::Kustomize`]: go-yaml v3 (what Kustomize's kyaml reads with) followed by
//!   `encoding/json`. Only `true`/`false` are booleans; `yes`, `on`, `y` stay strings; plain
//!   timestamps become RFC 3339 strings (`2001-12-14` → `2001-12-14T00:00:00Z`).
//! - [`Schema::Kubectl`]: go-yaml v2 through `sigs.k8s.io/yaml` (what `kubectl apply -f` and
//!   Argo CD read with). YAML 1.1 booleans (`yes`, `on`, `y`, `off`, ...) and timestamps kept as
//!   the original text.
//!
//! Both accept Go's integer syntax after dropping `_` (`0644` is octal 420, `0x1F` is 31,
//! `0o17` is 15, `+1` is 1) and YAML-style floats. Integral floats become integers, as the JSON
//! round trip in both tools makes them (`1.0` → `1`, `1e3` → `1000`).

use serde_json::{Number, Value};

/// Which YAML reader's scalar rules to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Schema {
    /// go-yaml v3 + `encoding/json`, as `kubectl kustomize` reads. The default.
    #[default]
    Kustomize,
    /// go-yaml v2 via `sigs.k8s.io/yaml`, as `kubectl apply -f` and Argo CD read.
    Kubectl,
}

/// Why a plain scalar could not be turned into a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResolveError {
    /// `.inf`, `-.inf` or `.nan`: JSON has no such numbers.
    NonFinite,
}

/// Resolves a plain scalar per `schema`.
pub(crate) fn resolve_plain(text: &str, schema: Schema) -> Result<Value, ResolveError> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "true" | "True" | "TRUE" => return Ok(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Value::Bool(false)),
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf"
        | "-.INF" => return Err(ResolveError::NonFinite),
        _ => {}
    }
    if schema == Schema::Kubectl {
        match text {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Ok(Value::Bool(true)),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
                return Ok(Value::Bool(false));
            }
            _ => {}
        }
    }
    let first = text.as_bytes()[0];
    match first {
        b'.' => Ok(parse_go_float(text).map_or_else(|| Value::String(text.to_owned()), float_value)),
        b'0'..=b'9' | b'+' | b'-' => {
            if let Some(ts) = parse_timestamp(text) {
                return Ok(match schema {
                    Schema::Kustomize => Value::String(ts),
                    Schema::Kubectl => Value::String(text.to_owned()),
                });
            }
            let plain: String = text.chars().filter(|&c| c != '_').collect();
            if let Some(n) = parse_go_int(&plain) {
                return Ok(n);
            }
            if is_yaml_float(&plain)
                && let Some(f) = parse_go_float(&plain)
            {
                return Ok(float_value(f));
            }
            Ok(Value::String(text.to_owned()))
        }
        _ => Ok(Value::String(text.to_owned())),
    }
}

/// A map key from a plain scalar: the text itself for Kustomize (kyaml keeps keys as written),
/// the resolved value printed back for kubectl (`sigs.k8s.io/yaml` turns `on:` into `"true"`).
pub(crate) fn resolve_plain_key(text: &str, schema: Schema) -> String {
    match schema {
        Schema::Kustomize => text.to_owned(),
        Schema::Kubectl => match resolve_plain(text, schema) {
            Ok(Value::Null) => "null".to_owned(),
            Ok(Value::Bool(b)) => b.to_string(),
            Ok(Value::Number(n)) => {
                n.as_f64().filter(|_| n.is_f64()).map_or_else(|| n.to_string(), super::number::format_float)
            }
            Ok(Value::String(s)) => s,
            Ok(_) | Err(_) => text.to_owned(),
        },
    }
}

/// What a plain scalar would be read as by go-yaml v3 (Kustomize's reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// A string.
    String,
    /// Anything else: a number, boolean, null or timestamp.
    Other,
}

/// Whether `text`, written as a plain YAML scalar, reads back as a string under Kustomize's rules.
///
/// ```
/// use gitops_core::yaml::{resolve_key_kind, KeyKind};
/// assert_eq!(resolve_key_kind("name"), KeyKind::String);
/// assert_eq!(resolve_key_kind("10"), KeyKind::Other);
/// assert_eq!(resolve_key_kind("true"), KeyKind::Other);
/// ```
pub fn resolve_key_kind(text: &str) -> KeyKind {
    match resolve_plain(text, Schema::Kustomize) {
        Ok(Value::String(s)) if parse_timestamp(text).is_none() || s == text => KeyKind::String,
        _ => KeyKind::Other,
    }
}

/// A float as JSON: integral values within `i64` become integers, as Go's JSON round trip makes them.
pub(crate) fn float_value(f: f64) -> Value {
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_775e18 {
        let i = f as i64;
        return Value::Number(Number::from(i));
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint(s, 0, 64)`.
fn parse_go_int(s: &str) -> Option<Value> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(rest) = unsigned.strip_prefix("0x").or_else(|| unsigned.strip_prefix("0X")) {
        (16, rest)
    } else if let Some(rest) = unsigned.strip_prefix("0o").or_else(|| unsigned.strip_prefix("0O")) {
        (8, rest)
    } else if let Some(rest) = unsigned.strip_prefix("0b").or_else(|| unsigned.strip_prefix("0B")) {
        (2, rest)
    } else if unsigned.len() > 1 && unsigned.starts_with('0') {
        (8, &unsigned[1..])
    } else {
        (10, unsigned)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if negative {
        let value = i128::try_from(magnitude).ok()?.checked_neg()?;
        i64::try_from(value).ok().map(|v| Value::Number(v.into()))
    } else if let Ok(v) = i64::try_from(magnitude) {
        Some(Value::Number(v.into()))
    } else if s.starts_with('+') {
        // ParseUint rejects a sign.
        None
    } else {
        u64::try_from(magnitude).ok().map(|v| Value::Number(v.into()))
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, the float pattern of go-yaml.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat` for the decimal forms go-yaml passes it; overflow is an error there.
fn parse_go_float(s: &str) -> Option<f64> {
    if !s.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// go-yaml's timestamp check (both versions): formats `2006-1-2T15:4:5.999999999Z07:00` (also
/// with `t`), `2006-1-2 15:4:5.999999999` and `2006-1-2`. Returns the value as Go's JSON encoder
/// prints a `time.Time` (RFC 3339 with nanoseconds, trailing zeros dropped).
pub(crate) fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let mut p = Cursor { b, i: 5 };
    let year: u32 = s[..4].parse().ok()?;
    let month = p.num(1, 2)?;
    p.expect(b'-')?;
    let day = p.num(1, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if p.done() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let separator = p.next()?;
    let zoned = match separator {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    let hour = p.num(1, 2)?;
    p.expect(b':')?;
    let minute = p.num(1, 2)?;
    p.expect(b':')?;
    let second = p.num(1, 2)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut fraction = String::new();
    if p.peek() == Some(b'.') {
        p.i += 1;
        let start = p.i;
        while p.peek().is_some_and(|c| c.is_ascii_digit()) {
            p.i += 1;
        }
        if p.i == start || p.i - start > 9 {
            return None;
        }
        s[start..p.i].trim_end_matches('0').clone_into(&mut fraction);
    }
    let zone = if zoned {
        match p.next()? {
            b'Z' => "Z".to_owned(),
            sign @ (b'+' | b'-') => {
                let hh = p.num(2, 2)?;
                p.expect(b':')?;
                let mm = p.num(2, 2)?;
                if hh > 23 || mm > 59 {
                    return None;
                }
                if hh == 0 && mm == 0 { "Z".to_owned() } else { format!("{}{hh:02}:{mm:02}", sign as char) }
            }
            _ => return None,
        }
    } else {
        "Z".to_owned()
    };
    if !p.done() {
        return None;
    }
    let fraction = if fraction.is_empty() { String::new() } else { format!(".{fraction}") };
    Some(format!("{date}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}"))
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }
    fn num(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i - start < max && self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i]).ok()?.parse().ok()
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn k(s: &str) -> Value {
        resolve_plain(s, Schema::Kustomize).expect("finite")
    }

    #[test]
    fn kustomize_schema_matches_go_yaml_v3() {
        // Expected values observed with kubectl v1.37.1 `kubectl kustomize` (see tests/fixtures).
        let cases = [
            ("0777", json!(511)),
            ("0644", json!(420)),
            ("on", json!("on")),
            ("yes", json!("yes")),
            ("y", json!("y")),
            ("12:30", json!("12:30")),
            ("1e3", json!(1000)),
            ("1.0", json!(1)),
            ("1.5", json!(1.5)),
            ("10000000000000000000", json!(10_000_000_000_000_000_000_u64)),
            ("-0", json!(0)),
            ("0x1F", json!(31)),
            ("0o17", json!(15)),
            ("~", json!(null)),
            ("null", json!(null)),
            ("True", json!(true)),
            ("2001-12-14", json!("2001-12-14T00:00:00Z")),
            ("+1", json!(1)),
            (".5", json!(0.5)),
            ("1_000", json!(1000)),
            ("08", json!(8)),
            ("-", json!("-")),
            ("1.2.3", json!("1.2.3")),
            ("2001-12-14t21:59:43.10-05:00", json!("2001-12-14T21:59:43.1-05:00")),
            ("2001-12-14 21:59:43.10", json!("2001-12-14T21:59:43.1Z")),
            ("2001-02-30", json!("2001-02-30")),
            ("1e400", json!("1e400")),
        ];
        for (input, expected) in cases {
            assert_eq!(k(input), expected, "plain scalar {input:?}");
        }
        assert_eq!(resolve_plain(".inf", Schema::Kustomize), Err(ResolveError::NonFinite));
    }

    #[test]
    fn kubectl_schema_is_yaml_1_1() {
        for (input, expected) in [
            ("on", json!(true)),
            ("Off", json!(false)),
            ("y", json!(true)),
            ("no", json!(false)),
            ("2001-12-14", json!("2001-12-14")),
            ("0644", json!(420)),
        ] {
            assert_eq!(resolve_plain(input, Schema::Kubectl).expect("finite"), expected, "{input}");
        }
        assert_eq!(resolve_plain_key("on", Schema::Kubectl), "true");
        assert_eq!(resolve_plain_key("on", Schema::Kustomize), "on");
    }
}

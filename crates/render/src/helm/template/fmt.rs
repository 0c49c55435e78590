//! Go's `fmt`: `Sprint`, `Sprintln` and `Sprintf` over template values.

use std::fmt::Write as _;

use super::value::Value;

/// Go's `fmt.Sprint`: operands printed with `%v`, with a space between two operands when
/// neither is a string.
#[must_use]
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        arg.write_go(&mut out);
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: operands with `%v`, always separated by spaces, then a newline.
#[must_use]
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        arg.write_go(&mut out);
    }
    out.push('\n');
    out
}

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Go's `fmt.Sprintf` over template values, with Go's error forms: `%!d(string=x)` for a
/// wrong type, `%!d(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`.
///
/// ```
/// use gitops_render::helm::template::{sprintf, Value};
/// assert_eq!(sprintf("%05d|%-4s|%q|%.2f", &[Value::Int(42), "ab".into(), "x".into(), Value::Float(3.14159)]), "00042|ab  |\"x\"|3.14");
/// assert_eq!(sprintf("%d", &[Value::Float(3.0)]), "%!d(float64=3)");
/// ```
#[must_use]
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut next_arg = 0;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = !spec.minus,
                _ => break,
            }
            chars.next();
        }
        let number = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
            let mut n: Option<usize> = None;
            while let Some(&(_, d)) = chars.peek() {
                let Some(v) = d.to_digit(10) else { break };
                n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(v as usize));
                chars.next();
            }
            n
        };
        if chars.peek().is_some_and(|&(_, c)| c == '*') {
            chars.next();
            if let Some(Value::Int(w)) = args.get(next_arg) {
                spec.width = usize::try_from(w.unsigned_abs()).ok();
                if *w < 0 {
                    spec.minus = true;
                }
            } else {
                out.push_str("%!(BADWIDTH)");
            }
            next_arg += 1;
        } else {
            spec.width = number(&mut chars);
        }
        if chars.peek().is_some_and(|&(_, c)| c == '.') {
            chars.next();
            if chars.peek().is_some_and(|&(_, c)| c == '*') {
                chars.next();
                if let Some(Value::Int(p)) = args.get(next_arg) {
                    spec.prec = usize::try_from(*p).ok();
                } else {
                    out.push_str("%!(BADPREC)");
                }
                next_arg += 1;
            } else {
                spec.prec = Some(number(&mut chars).unwrap_or(0));
            }
        }
        if spec.minus {
            spec.zero = false;
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        next_arg += 1;
        format_arg(&mut out, arg, verb, spec, 0);
    }
    if next_arg < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, arg) in args[next_arg..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if arg.is_nil() {
                out.push_str("<nil>");
            } else {
                let _ = write!(out, "{}={}", arg.type_name(), arg.to_go_string());
            }
        }
        out.push(')');
    }
    out
}

fn bad_verb(out: &mut String, arg: &Value, verb: char) {
    if arg.is_nil() {
        let _ = write!(out, "%!{verb}(<nil>)");
    } else {
        let _ = write!(out, "%!{verb}({}={})", arg.type_name(), arg.to_go_string());
    }
}

fn pad(out: &mut String, s: &str, spec: Spec, zero_ok: bool) {
    let len = s.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        out.push_str(s);
        return;
    }
    let fill = width - len;
    if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if spec.zero && zero_ok {
        // Zeros go after a sign.
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'+' | b'-' | b' ') => s.split_at(1),
            _ => ("", s),
        };
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(rest);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(s);
    }
}

fn format_arg(out: &mut String, arg: &Value, verb: char, spec: Spec, depth: usize) {
    match arg {
        Value::Missing | Value::Nil => {
            if matches!(verb, 'v' | 'T') || depth > 0 {
                pad(out, "<nil>", spec, false);
            } else {
                bad_verb(out, arg, verb);
            }
        }
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, spec, false),
            'T' => pad(out, "bool", spec, false),
            _ => bad_verb(out, arg, verb),
        },
        Value::Int(i) => format_int(out, arg, *i, verb, spec),
        Value::Float(f) => format_float(out, arg, *f, verb, spec),
        Value::String(s) => format_string(out, arg, s, verb, spec),
        Value::List(items) => {
            if verb == 'T' {
                return pad(out, arg.type_name(), spec, false);
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                format_arg(out, item, verb, spec, depth + 1);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            if verb == 'T' {
                return pad(out, arg.type_name(), spec, false);
            }
            out.push_str("map[");
            for (i, (k, v)) in entries.read().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                format_string(out, &Value::string(k.as_str()), k, verb, spec);
                out.push(':');
                format_arg(out, v, verb, spec, depth + 1);
            }
            out.push(']');
        }
        Value::Object(o) => pad(out, &o.display(), spec, false),
    }
}

fn format_string(out: &mut String, arg: &Value, s: &str, verb: char, spec: Spec) {
    let truncated: String;
    let s = match spec.prec {
        Some(p) if matches!(verb, 'v' | 's' | 'q') => {
            truncated = s.chars().take(p).collect();
            truncated.as_str()
        }
        _ => s,
    };
    match verb {
        'v' | 's' => pad(out, s, spec, false),
        'q' => pad(
            out,
            &if spec.sharp && !s.contains('`') && !s.chars().any(char::is_control) {
                format!("`{s}`")
            } else {
                quote(s, spec.plus)
            },
            spec,
            false,
        ),
        'x' | 'X' => {
            let mut hex = String::with_capacity(s.len() * 2);
            for b in s.bytes() {
                let _ = if verb == 'x' { write!(hex, "{b:02x}") } else { write!(hex, "{b:02X}") };
            }
            pad(out, &hex, spec, false);
        }
        'T' => pad(out, "string", spec, false),
        _ => bad_verb(out, arg, verb),
    }
}

/// Go's `strconv.Quote` (`ascii_only`: `QuoteToASCII`).
pub(crate) fn quote(s: &str, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_ascii() => out.push(c),
            c if !ascii_only && (!c.is_control() || c == '\u{fffd}') => out.push(c),
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// The sign a number prints with: `-`, or `+`/space by the flags.
fn sign(negative: bool, spec: Spec) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn format_int(out: &mut String, arg: &Value, i: i64, verb: char, spec: Spec) {
    let (base, upper) = match verb {
        'd' | 'v' => (10, false),
        'x' => (16, false),
        'X' => (16, true),
        'o' | 'O' => (8, false),
        'b' => (2, false),
        'c' => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{fffd}');
            return pad(out, &c.to_string(), spec, false);
        }
        'q' => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{fffd}');
            let q = quote(&c.to_string(), spec.plus);
            let inner = &q[1..q.len() - 1];
            let inner = if inner == "\\\"" {
                "\""
            } else if c == '\'' {
                "\\'"
            } else {
                inner
            };
            return pad(out, &format!("'{inner}'"), spec, false);
        }
        'U' => {
            let mut s = format!("U+{:04X}", i.unsigned_abs());
            if spec.sharp
                && let Some(c) = u32::try_from(i).ok().and_then(char::from_u32)
            {
                let _ = write!(s, " '{c}'");
            }
            return pad(out, &s, spec, false);
        }
        'T' => return pad(out, "int", spec, false),
        _ => return bad_verb(out, arg, verb),
    };
    let magnitude = i.unsigned_abs();
    let mut digits = match base {
        16 if upper => format!("{magnitude:X}"),
        16 => format!("{magnitude:x}"),
        8 => format!("{magnitude:o}"),
        2 => format!("{magnitude:b}"),
        _ => magnitude.to_string(),
    };
    if let Some(p) = spec.prec {
        if p == 0 && magnitude == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let prefix = match (spec.sharp, verb) {
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        (true, 'o') if !digits.starts_with('0') => "0",
        (true, 'b') => "0b",
        (_, 'O') => "0o",
        _ => "",
    };
    let sign = sign(i < 0, spec);
    let body = format!("{sign}{prefix}{digits}");
    let zero_ok = spec.prec.is_none();
    if spec.zero && zero_ok && !prefix.is_empty() {
        let width = spec.width.unwrap_or(0);
        let len = body.len();
        out.push_str(sign);
        out.push_str(prefix);
        out.extend(std::iter::repeat_n('0', width.saturating_sub(len)));
        out.push_str(&digits);
    } else {
        pad(out, &body, spec, zero_ok);
    }
}

/// The decimal digits of `f` (no trailing zeros) and the decimal point position: `f` is
/// `0.DIGITS × 10^point`. With `sig`, rounded to that many significant digits.
fn decimal(f: f64, sig: Option<usize>) -> (String, i32) {
    if f == 0.0 {
        return (String::new(), 0);
    }
    let sci = match sig {
        Some(p) => format!("{:.*e}", p.saturating_sub(1), f.abs()),
        None => format!("{:e}", f.abs()),
    };
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0').to_owned();
    (digits, exponent + 1)
}

fn exp_form(digits: &str, point: i32, prec: usize, upper: bool, sharp_keep: bool) -> String {
    let mut s = String::new();
    let first = digits.chars().next().unwrap_or('0');
    s.push(first);
    let rest: String = digits.chars().skip(1).collect();
    let mut frac = rest;
    while frac.len() < prec {
        frac.push('0');
    }
    if prec > 0 || sharp_keep {
        s.push('.');
        s.push_str(&frac[..prec.min(frac.len())]);
    }
    let exp = if digits.is_empty() { 0 } else { point - 1 };
    s.push(if upper { 'E' } else { 'e' });
    s.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(s, "{:02}", exp.unsigned_abs());
    s
}

fn format_float(out: &mut String, arg: &Value, f: f64, verb: char, spec: Spec) {
    if !matches!(verb, 'v' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'T') {
        return bad_verb(out, arg, verb);
    }
    if verb == 'T' {
        return pad(out, "float64", spec, false);
    }
    let sign = sign(f.is_sign_negative() && !f.is_nan(), spec);
    if f.is_nan() || f.is_infinite() {
        let shown = match (f.is_nan(), f.is_sign_negative()) {
            (true, _) if spec.plus => "+NaN",
            (true, _) => "NaN",
            (false, true) => "-Inf",
            (false, false) => "+Inf",
        };
        return pad(out, shown, spec, false);
    }
    let a = f.abs();
    let body = match verb {
        'f' | 'F' => format!("{:.*}", spec.prec.unwrap_or(6), a),
        'e' | 'E' => {
            let p = spec.prec.unwrap_or(6);
            let (digits, point) = decimal(a, Some(p + 1));
            exp_form(&digits, point, p, verb == 'E', false)
        }
        _ => {
            // %v and %g: shortest (or `prec` significant digits), %e form when the exponent
            // is below -4 or at least the precision (6 for the shortest form).
            let sig = match spec.prec {
                Some(0) => Some(1),
                other => other,
            };
            let (digits, point) = decimal(a, sig);
            let mut eprec = sig.map_or(6, |p| i32::try_from(p).unwrap_or(i32::MAX));
            let nd = i32::try_from(digits.len()).unwrap_or(i32::MAX);
            if sig.is_some() && eprec > nd && nd >= point {
                eprec = nd;
            }
            if sig.is_none() {
                eprec = 6;
            }
            let exp = point - 1;
            if digits.is_empty() {
                "0".to_owned()
            } else if exp < -4 || exp >= eprec {
                let p = usize::try_from(nd - 1).unwrap_or(0);
                exp_form(&digits, point, p, verb == 'G', false)
            } else {
                let p = usize::try_from((nd - point).max(0)).unwrap_or(0);
                format!("{a:.p$}")
            }
        }
    };
    let body = format!("{sign}{body}");
    pad(out, &body, spec, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(format: &str, args: &[Value]) -> String {
        sprintf(format, args)
    }

    #[test]
    fn verbs_match_go() {
        assert_eq!(f("%v %v %v", &[Value::Float(1e6), Value::Float(0.5), Value::Int(-3)]), "1e+06 0.5 -3");
        assert_eq!(
            f("%e|%E|%.2e", &[Value::Float(1234.5), Value::Float(0.0), Value::Float(1234.5)]),
            "1.234500e+03|0.000000E+00|1.23e+03"
        );
        assert_eq!(
            f("%g|%.3g|%g", &[Value::Float(100_000.0), Value::Float(1234.5), Value::Float(1e-5)]),
            "100000|1.23e+03|1e-05"
        );
        assert_eq!(
            f(
                "%x|%X|%#x|%o|%b|%c|%U",
                &[
                    Value::Int(255),
                    Value::Int(255),
                    Value::Int(255),
                    Value::Int(8),
                    Value::Int(5),
                    Value::Int(65),
                    Value::Int(65)
                ]
            ),
            "ff|FF|0xff|10|101|A|U+0041"
        );
        assert_eq!(
            f("%5.1f|%-6d|%+d|%06.2f", &[Value::Float(2.75), Value::Int(7), Value::Int(7), Value::Float(-1.5)]),
            "  2.8|7     |+7|-01.50"
        );
        assert_eq!(f("%s %d", &[Value::Int(1)]), "%!s(int=1) %!d(MISSING)");
        assert_eq!(f("%d", &[Value::Int(1), "x".into()]), "1%!(EXTRA string=x)");
        assert_eq!(
            f("%v %s", &[Value::list(vec![Value::Int(1), Value::Nil]), Value::list(vec![Value::Int(1)])]),
            "[1 <nil>] [%!s(int=1)]"
        );
        assert_eq!(f("%q", &["a\"b\n\u{1}é".into()]), "\"a\\\"b\\n\\x01é\"");
        assert_eq!(f("%d %v", &[Value::Nil, Value::Nil]), "%!d(<nil>) <nil>");
        assert_eq!(f("100%%", &[]), "100%");
    }
}

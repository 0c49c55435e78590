//! Equality of scalars as the API server sees them: numbers by value (`1` equals `1.0`),
//! quantities by value (`500m` equals `0.5`, `1Gi` equals `1024Mi`), and int-or-string fields
//! where a string of digits equals the integer.

use gitops_core::schema::ScalarType;
use serde_json::Value;

/// Whether two scalars are equal at a position of type `scalar` (`None`: not known).
pub(crate) fn scalars_equal(scalar: Option<ScalarType>, a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    match (a, b) {
        (Value::Number(_), Value::Number(_)) if numbers_equal(a, b) => return true,
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => return false,
        _ => {}
    }
    match scalar {
        Some(ScalarType::Quantity) => match (Quantity::from_value(a), Quantity::from_value(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        Some(ScalarType::IntOrString) => int_equals_digits(a, b) || int_equals_digits(b, a),
        _ => false,
    }
}

/// Equality where `1` and `1.0` are the same number.
#[allow(clippy::float_cmp)] // exact equality is the point: `1` and `1.0` are the same value, `0.1` and `0.1000001` are not
pub(crate) fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            x.as_f64().zip(y.as_f64()).is_some_and(|(p, q)| p == q)
        }
        (Value::Number(x), Value::Number(y)) => x == y,
        _ => false,
    }
}

/// An integer and a string of decimal digits with the same value (`8080` and `"8080"`).
fn int_equals_digits(int: &Value, text: &Value) -> bool {
    match (int, text) {
        (Value::Number(n), Value::String(s)) => {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && s.parse::<u64>().ok().zip(n.as_u64()).is_some_and(|(p, q)| p == q)
        }
        _ => false,
    }
}

/// A Kubernetes resource quantity reduced to `mantissa × 10^exponent`, with the mantissa free
/// of trailing zeros, so equal quantities have equal representations whatever their spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quantity {
    mantissa: i128,
    exponent: i32,
}

impl Quantity {
    /// Reads a quantity written as a string (`500m`, `1.5Gi`, `1e3`) or a JSON number.
    pub(crate) fn from_value(value: &Value) -> Option<Quantity> {
        match value {
            Value::String(s) => Quantity::parse(s),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => None,
        }
    }

    /// Parses the Kubernetes quantity grammar: a signed decimal number and an optional suffix,
    /// binary (`Ki` … `Ei`), decimal (`n`, `u`, `m`, `k`, `M` … `E`) or an exponent (`e3`, `E-2`).
    /// Surrounding whitespace is ignored.
    pub(crate) fn parse(text: &str) -> Option<Quantity> {
        // Read byte by byte: a diff parses a few quantities per container, and `str::trim`,
        // `find` and `split_once` decode characters the grammar has no use for.
        let plain = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii() && !char::from(b).is_whitespace());
        let text = if plain(text.as_bytes().first()) && plain(text.as_bytes().last()) { text } else { text.trim() };
        let bytes = text.as_bytes();
        let (negative, mut at) = match bytes.first()? {
            b'-' => (true, 1),
            b'+' => (false, 1),
            _ => (false, 0),
        };
        let (mut mantissa, mut digits, mut fraction): (i128, usize, Option<usize>) = (0, 0, None);
        while let Some(&byte) = bytes.get(at) {
            match byte {
                b'0'..=b'9' => {
                    mantissa = mantissa.checked_mul(10)?.checked_add(i128::from(byte - b'0'))?;
                    digits += 1;
                }
                b'.' if fraction.is_none() => fraction = Some(digits),
                b'.' => return None,
                _ => break,
            }
            at += 1;
        }
        if digits == 0 || digits > 36 {
            return None;
        }
        let exponent = -i32::try_from(digits - fraction.unwrap_or(digits)).ok()?;
        let (decimal, binary_power) = match &bytes[at..] {
            b"" => (0, 0),
            b"n" => (-9, 0),
            b"u" => (-6, 0),
            b"m" => (-3, 0),
            b"k" => (3, 0),
            b"M" => (6, 0),
            b"G" => (9, 0),
            b"T" => (12, 0),
            b"P" => (15, 0),
            b"E" => (18, 0),
            b"Ki" => (0, 10),
            b"Mi" => (0, 20),
            b"Gi" => (0, 30),
            b"Ti" => (0, 40),
            b"Pi" => (0, 50),
            b"Ei" => (0, 60),
            [b'e' | b'E', exp @ ..] => {
                let digits = exp.strip_prefix(b"+").or_else(|| exp.strip_prefix(b"-")).unwrap_or(exp);
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                (text[at + 1..].parse::<i32>().ok()?, 0)
            }
            _ => return None,
        };
        Quantity::new(negative, mantissa, exponent.checked_add(decimal)?, binary_power)
    }

    /// `±mantissa × 10^exponent × 2^binary_power`, with the mantissa free of trailing zeros.
    fn new(negative: bool, mantissa: i128, mut exponent: i32, binary_power: u32) -> Option<Quantity> {
        let mut mantissa = mantissa.checked_mul(1i128.checked_shl(binary_power)?)?;
        if negative {
            mantissa = -mantissa;
        }
        if mantissa == 0 {
            return Some(Quantity { mantissa: 0, exponent: 0 });
        }
        // Strip trailing zeros in 64 bits when the mantissa fits (almost always): dividing an
        // i128 is a library call, dividing an i64 by a constant a multiplication.
        if let Ok(mut small) = i64::try_from(mantissa) {
            while small % 10 == 0 {
                small /= 10;
                exponent = exponent.checked_add(1)?;
            }
            mantissa = i128::from(small);
        } else {
            while mantissa % 10 == 0 {
                mantissa /= 10;
                exponent = exponent.checked_add(1)?;
            }
        }
        Some(Quantity { mantissa, exponent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_compare_by_value() {
        let same = [
            ("500m", "0.5"),
            ("1Gi", "1024Mi"),
            ("1Ki", "1024"),
            ("1k", "1000"),
            ("1e3", "1k"),
            ("1E3", "1000"),
            ("0.1", "100m"),
            ("1.5Gi", "1536Mi"),
            ("2", "2000m"),
            ("0", "0Mi"),
            ("+1", "1"),
            ("-500m", "-0.5"),
            (".5", "500m"),
            ("100n", "0.1u"),
        ];
        for (a, b) in same {
            assert_eq!(Quantity::parse(a), Quantity::parse(b), "{a} = {b}");
            assert!(Quantity::parse(a).is_some(), "{a} parses");
        }
        for (a, b) in [("1G", "1Gi"), ("1m", "1M"), ("100Mi", "100M"), ("0.5", "5")] {
            assert_ne!(Quantity::parse(a), Quantity::parse(b), "{a} != {b}");
        }
        for bad in ["", "Gi", "1.2.3", "1Xi", "1e", "abc", "1 Gi", "."] {
            assert_eq!(Quantity::parse(bad), None, "{bad:?}");
        }
    }

    /// The parser as first written (with `str` methods), to check the byte-level one against.
    #[allow(clippy::many_single_char_names)]
    mod reference {
        use super::Quantity;
        impl Quantity {
            /// Parses the Kubernetes quantity grammar: a signed decimal number and an optional suffix,
            /// binary (`Ki` … `Ei`), decimal (`n`, `u`, `m`, `k`, `M` … `E`) or an exponent (`e3`, `E-2`).
            pub(super) fn parse_reference(text: &str) -> Option<Quantity> {
                let text = text.trim();
                let (negative, rest) = match text.as_bytes().first()? {
                    b'-' => (true, &text[1..]),
                    b'+' => (false, &text[1..]),
                    _ => (false, text),
                };
                let number_end = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
                let (number, suffix) = rest.split_at(number_end);
                let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
                if (whole.is_empty() && fraction.is_empty())
                    || fraction.contains('.')
                    || whole.len() + fraction.len() > 36
                {
                    return None;
                }
                let mut mantissa: i128 = 0;
                for digit in whole.bytes().chain(fraction.bytes()) {
                    mantissa = mantissa.checked_mul(10)?.checked_add(i128::from(digit - b'0'))?;
                }
                let exponent = -i32::try_from(fraction.len()).ok()?;
                let binary = |power: u32| -> Option<(i32, u32)> { Some((0, power)) };
                let (decimal, binary_power) = match suffix {
                    "" => (0, 0),
                    "n" => (-9, 0),
                    "u" => (-6, 0),
                    "m" => (-3, 0),
                    "k" => (3, 0),
                    "M" => (6, 0),
                    "G" => (9, 0),
                    "T" => (12, 0),
                    "P" => (15, 0),
                    "E" => (18, 0),
                    "Ki" => binary(10)?,
                    "Mi" => binary(20)?,
                    "Gi" => binary(30)?,
                    "Ti" => binary(40)?,
                    "Pi" => binary(50)?,
                    "Ei" => binary(60)?,
                    other => {
                        let exp = other.strip_prefix(['e', 'E'])?;
                        if exp.is_empty() || !exp.trim_start_matches(['+', '-']).bytes().all(|b| b.is_ascii_digit()) {
                            return None;
                        }
                        (exp.parse::<i32>().ok()?, 0)
                    }
                };
                Quantity::new(negative, mantissa, exponent.checked_add(decimal)?, binary_power)
            }
        }
    }

    #[test]
    fn parser_agrees_with_the_reference() {
        let parts = [
            "",
            " ",
            "\u{a0}",
            "+",
            "-",
            "0",
            "1",
            "12",
            "007",
            ".",
            "5",
            "..",
            "e",
            "E",
            "e3",
            "E-2",
            "e+1",
            "e+-1",
            "m",
            "Mi",
            "Ki",
            "Xi",
            "i",
            "k",
            "n",
            "u",
            "G",
            "Gi",
            "Ei",
            "1.5",
            "99999999999999999999",
        ];
        let mut checked = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    let text = format!("{a}{b}{c}");
                    assert_eq!(Quantity::parse(&text), Quantity::parse_reference(&text), "{text:?}");
                    checked += 1;
                }
            }
        }
        let long = "1".repeat(37);
        assert_eq!(Quantity::parse(&long), None);
        assert_eq!(Quantity::parse(&long[1..]), Quantity::parse_reference(&long[1..]));
        assert!(checked > 1000);
    }

    #[test]
    fn scalar_equality_by_type() {
        let q = Some(ScalarType::Quantity);
        assert!(scalars_equal(q, &json!("500m"), &json!(0.5)));
        assert!(scalars_equal(q, &json!(1), &json!("1000m")));
        assert!(!scalars_equal(None, &json!("500m"), &json!(0.5)));
        assert!(scalars_equal(None, &json!(1), &json!(1.0)));
        assert!(!scalars_equal(None, &json!(1), &json!(1.5)));
        let ios = Some(ScalarType::IntOrString);
        assert!(scalars_equal(ios, &json!(8080), &json!("8080")));
        assert!(!scalars_equal(ios, &json!(8080), &json!("http")));
        assert!(!scalars_equal(ios, &json!("25%"), &json!(25)));
        assert!(!scalars_equal(Some(ScalarType::String), &json!("8080"), &json!(8080)));
    }
}

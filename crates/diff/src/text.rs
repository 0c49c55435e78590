//! Equality of the short strings objects are made of (keys, names, most values), compared in
//! a few word-sized loads instead of a call to `memcmp`: a diff compares hundreds per object.

use serde_json::Value;

/// `a == b`, for strings.
pub(crate) fn text_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    // Two overlapping loads cover the whole string: its first and last 4 or 8 bytes.
    match a.len() {
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=8 => a.first_chunk::<4>() == b.first_chunk::<4>() && a.last_chunk::<4>() == b.last_chunk::<4>(),
        9..=16 => a.first_chunk::<8>() == b.first_chunk::<8>() && a.last_chunk::<8>() == b.last_chunk::<8>(),
        _ => a == b,
    }
}

/// `a == b`, with strings compared by [`text_equal`].
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => text_equal(a, b),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_plain_equality() {
        let words = [
            "",
            "a",
            "b",
            "ab",
            "abc",
            "abd",
            "abcd",
            "abce",
            "bbcd",
            "abcde",
            "abcdf",
            "xbcde",
            "abcdefgh",
            "abcdefgx",
            "abcdefghi",
            "abcdefghj",
            "xbcdefghi",
            "abcdxfghi",
            "0123456789abcdef",
            "0123456789abcdeg",
            "0123456x89abcdef",
            "0123456789abcdefg",
            "0123456789abcdefh",
            "012345678x9abcdefg",
        ];
        for a in words {
            for b in words {
                assert_eq!(text_equal(a, b), a == b, "{a:?} {b:?}");
            }
        }
        assert!(values_equal(&Value::from("web"), &Value::from("web")));
        assert!(!values_equal(&Value::from("1"), &Value::from(1)));
        assert!(values_equal(&Value::from(1), &Value::from(1)));
    }
}

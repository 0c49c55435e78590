//! Numbers printed as the Go tools print them.

/// Formats a float as Go's `strconv.FormatFloat(f, 'g', -1, 64)` (and `fmt`'s `%v`) does: the
/// shortest digits that round-trip, in `%e` form when the exponent is below -4 or at least 6.
///
/// This is how go-yaml v2 writes floats, so it is how `kubectl kustomize` prints non-integral
/// numbers, and how Helm prints a float64 value (`1e+06`).
///
/// ```
/// use gitops_core::yaml::format_float;
/// assert_eq!(format_float(1.5), "1.5");
/// assert_eq!(format_float(1_000_000.0), "1e+06");
/// assert_eq!(format_float(1_234_567.5), "1.2345675e+06");
/// assert_eq!(format_float(0.0001), "0.0001");
/// assert_eq!(format_float(0.00001), "1e-05");
/// assert_eq!(format_float(123_456.0), "123456");
/// assert_eq!(format_float(-0.0), "-0");
/// ```
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let negative = f.is_sign_negative();
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` always prints an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` prints a decimal exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if !(-4..6).contains(&exponent) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        let e = exponent.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else if exponent < 0 {
        out.push_str("0.");
        for _ in 0..(-exponent - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = usize::try_from(exponent).expect("exponent is non-negative here") + 1;
        if digits.len() <= point {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format_float;

    #[test]
    fn go_g_format() {
        for (f, s) in [
            (0.0, "0"),
            (1.0, "1"),
            (100_000.0, "100000"),
            (1e20, "1e+20"),
            (1e21, "1e+21"),
            (1.0e-7, "1e-07"),
            (123.456, "123.456"),
            (1e100, "1e+100"),
            (-2.5e-5, "-2.5e-05"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(format_float(f), s, "{f}");
        }
    }
}

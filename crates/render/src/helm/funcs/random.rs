//! Sprig's random functions: `randAlphaNum`, `randAlpha`, `randNumeric`, `randAscii`,
//! `randBytes`, `randInt`, `uuidv4` and `shuffle`, from the operating system's random source
//! as Sprig's (crypto/rand) are. Their output cannot match a golden; tests check its shape.

use base64::Engine as _;

use super::{add, to_int64, want_int, want_str};
use crate::helm::template::{Arity, FuncError, FuncMap, Value};

fn random_bytes(n: usize) -> Result<Vec<u8>, FuncError> {
    let mut buf = vec![0_u8; n];
    getrandom::fill(&mut buf).map_err(|e| FuncError::Message(format!("random source: {e}")))?;
    Ok(buf)
}

/// A uniform index below `n` (rejection sampling, no modulo bias).
fn random_below(n: u64) -> Result<u64, FuncError> {
    let zone = u64::MAX - u64::MAX % n;
    loop {
        let bytes = random_bytes(8)?;
        let v = u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]));
        if v < zone {
            return Ok(v % n);
        }
    }
}

/// `count` characters drawn uniformly from `alphabet`; a negative count is Go's error.
fn random_string(count: i64, alphabet: &[u8]) -> Result<Value, FuncError> {
    let count = usize::try_from(count)
        .map_err(|_| FuncError::Message(format!("Requested random string length {count} is less than 0.")))?;
    let mut out = String::with_capacity(count);
    for _ in 0..count {
        let i = random_below(alphabet.len() as u64)?;
        out.push(char::from(alphabet[usize::try_from(i).unwrap_or(0)]));
    }
    Ok(Value::from(out))
}

const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const NUMERIC: &[u8] = b"0123456789";

/// The printable ASCII characters, space to `~`.
fn ascii() -> Vec<u8> {
    (32_u8..=126).collect()
}

/// A version 4 UUID in its canonical text form.
fn uuid_v4() -> Result<String, FuncError> {
    let mut b = random_bytes(16)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = super::more::hex(&b);
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}

pub(super) fn register(map: &mut FuncMap) {
    add(map, "randAlphaNum", Arity::Exact(1), |_, a| random_string(want_int(&a[0])?, ALNUM));
    add(map, "randAlpha", Arity::Exact(1), |_, a| random_string(want_int(&a[0])?, ALPHA));
    add(map, "randNumeric", Arity::Exact(1), |_, a| random_string(want_int(&a[0])?, NUMERIC));
    add(map, "randAscii", Arity::Exact(1), |_, a| random_string(want_int(&a[0])?, &ascii()));
    add(map, "randBytes", Arity::Exact(1), |_, a| {
        let n = usize::try_from(want_int(&a[0])?).unwrap_or(0);
        Ok(Value::from(base64::engine::general_purpose::STANDARD.encode(random_bytes(n)?)))
    });
    add(map, "randInt", Arity::Exact(2), |_, a| {
        let (min, max) = (to_int64(&a[0]), to_int64(&a[1]));
        let span = max.checked_sub(min).filter(|s| *s > 0);
        let span = span.ok_or_else(|| FuncError::Message("invalid argument to Intn".to_owned()))?;
        let offset = random_below(span.unsigned_abs())?;
        Ok(Value::Int(min + i64::try_from(offset).unwrap_or(0)))
    });
    add(map, "uuidv4", Arity::Exact(0), |_, _| Ok(Value::from(uuid_v4()?)));
    add(map, "shuffle", Arity::Exact(1), |_, a| {
        let mut chars: Vec<char> = want_str(&a[0])?.chars().collect();
        for i in (1..chars.len()).rev() {
            let j = usize::try_from(random_below(i as u64 + 1)?).unwrap_or(0);
            chars.swap(i, j);
        }
        Ok(Value::from(chars.into_iter().collect::<String>()))
    });
}

#[cfg(test)]
mod tests {
    use crate::helm::funcs::helm_funcs;
    use crate::helm::template::{Templates, Value};

    fn run(text: &str) -> Result<String, String> {
        let mut set = Templates::new().with_funcs(helm_funcs());
        set.parse("t", text).map_err(|e| e.to_string())?;
        set.execute("t", &Value::Missing).map_err(|e| e.to_string())
    }

    fn shape(text: &str, pattern: &str) {
        let re = regex::Regex::new(pattern).expect("pattern");
        let first = run(text).expect("runs");
        assert!(re.is_match(&first), "{text} gave {first:?}, not {pattern}");
        // Two draws of 32+ characters are equal with negligible probability.
        assert_ne!(first, run(text).expect("runs"), "{text} is not random");
    }

    #[test]
    fn random_strings_have_their_alphabets_and_lengths() {
        shape("{{ randAlphaNum 40 }}", "^[a-zA-Z0-9]{40}$");
        shape("{{ randAlpha 40 }}", "^[a-zA-Z]{40}$");
        shape("{{ randNumeric 40 }}", "^[0-9]{40}$");
        shape("{{ randAscii 40 }}", "^[ -~]{40}$");
        shape("{{ randBytes 30 }}", "^[A-Za-z0-9+/]{40}$");
        shape("{{ uuidv4 }}", "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
        assert_eq!(run("{{ randAlpha 0 }}").expect("runs"), "");
    }

    #[test]
    fn shuffle_and_rand_int_stay_in_bounds() {
        let text = "abcdefghijklmnopqrstuvwxyz0123456789";
        let shuffled = run(&format!("{{{{ shuffle {text:?} }}}}")).expect("runs");
        let (mut a, mut b): (Vec<char>, Vec<char>) = (text.chars().collect(), shuffled.chars().collect());
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
        for _ in 0..50 {
            let n: i64 = run("{{ randInt 3 7 }}").expect("runs").parse().expect("a number");
            assert!((3..7).contains(&n), "{n}");
        }
        assert!(run("{{ randInt 5 5 }}").expect_err("empty range").contains("invalid argument to Intn"));
    }
}

//! Go's `time.Time` and `time.Duration` as template values: Go's layout formatting and
//! parsing (`2006-01-02T15:04:05Z07:00`), `Time.String()`, `Duration.String()` and
//! `time.ParseDuration`. Zones: UTC and fixed offsets; `Local` is UTC (see `docs/helm.md`).

use std::fmt::Write as _;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// An instant with the zone it is shown in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GoTime {
    /// Seconds since the Unix epoch.
    pub(crate) secs: i64,
    /// Nanoseconds within the second.
    pub(crate) nanos: u32,
    /// The zone's offset from UTC in seconds.
    pub(crate) offset: i32,
    /// The zone's abbreviation (`UTC`), or empty for a fixed offset without a name.
    pub(crate) zone: String,
    /// Go's monotonic clock reading in seconds (`m=+0.001`), set only by `now`.
    pub(crate) monotonic: Option<f64>,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The broken-down fields of a time in its zone.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    weekday: usize,
    yday: i64,
}

impl GoTime {
    /// The current time in UTC, with a monotonic reading as Go's `time.Now()` has.
    #[must_use]
    pub(crate) fn now() -> GoTime {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        GoTime {
            secs: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            nanos: since.subsec_nanos(),
            offset: 0,
            zone: "UTC".to_owned(),
            monotonic: Some(0.0),
        }
    }

    /// The time at Unix second `secs`, in UTC.
    #[must_use]
    pub(crate) fn from_unix(secs: i64) -> GoTime {
        GoTime { secs, nanos: 0, offset: 0, zone: "UTC".to_owned(), monotonic: None }
    }

    /// The same instant shown in `zone` (`UTC` or `Local`); `None` for a zone this port has no
    /// data for.
    #[must_use]
    pub(crate) fn in_zone(&self, zone: &str) -> Option<GoTime> {
        match zone {
            "UTC" | "" | "Local" => Some(GoTime { offset: 0, zone: "UTC".to_owned(), monotonic: None, ..self.clone() }),
            _ => None,
        }
    }

    /// Nanoseconds since the epoch.
    #[must_use]
    pub(crate) fn unix_nanos(&self) -> i128 {
        i128::from(self.secs) * i128::from(NANOS_PER_SEC) + i128::from(self.nanos)
    }

    /// This time moved by `nanos`.
    #[must_use]
    pub(crate) fn add(&self, nanos: i64) -> GoTime {
        let total = self.unix_nanos() + i128::from(nanos);
        let secs = i64::try_from(total.div_euclid(i128::from(NANOS_PER_SEC))).unwrap_or(i64::MAX);
        let nanos = u32::try_from(total.rem_euclid(i128::from(NANOS_PER_SEC))).unwrap_or(0);
        GoTime { secs, nanos, monotonic: None, ..self.clone() }
    }

    fn civil(&self) -> Civil {
        let local = self.secs + i64::from(self.offset);
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
            weekday: usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0),
            yday: days - days_from_civil(year, 1, 1) + 1,
        }
    }

    /// Go's `Time.Format(layout)`.
    #[must_use]
    pub(crate) fn format(&self, layout: &str) -> String {
        let c = self.civil();
        let mut out = String::new();
        let mut rest = layout;
        while !rest.is_empty() {
            let Some((token, len)) = next_token(rest) else {
                let ch = rest.chars().next().unwrap_or(' ');
                out.push(ch);
                rest = &rest[ch.len_utf8()..];
                continue;
            };
            rest = &rest[len..];
            let _ = match token {
                Token::Year4 => write!(out, "{:04}", c.year),
                Token::Year2 => write!(out, "{:02}", c.year.rem_euclid(100)),
                Token::MonthLong => write!(out, "{}", MONTHS[usize::try_from(c.month - 1).unwrap_or(0)]),
                Token::MonthShort => write!(out, "{}", &MONTHS[usize::try_from(c.month - 1).unwrap_or(0)][..3]),
                Token::Month2 => write!(out, "{:02}", c.month),
                Token::Month1 => write!(out, "{}", c.month),
                Token::DayLong => write!(out, "{}", DAYS[c.weekday]),
                Token::DayShort => write!(out, "{}", &DAYS[c.weekday][..3]),
                Token::Day2 => write!(out, "{:02}", c.day),
                Token::DaySpace => write!(out, "{:>2}", c.day),
                Token::Day1 => write!(out, "{}", c.day),
                Token::YearDay => write!(out, "{:03}", c.yday),
                Token::Hour24 => write!(out, "{:02}", c.hour),
                Token::Hour12 | Token::Hour12Pad => {
                    let h = if c.hour % 12 == 0 { 12 } else { c.hour % 12 };
                    if token == Token::Hour12Pad { write!(out, "{h:02}") } else { write!(out, "{h}") }
                }
                Token::Minute2 => write!(out, "{:02}", c.minute),
                Token::Minute1 => write!(out, "{}", c.minute),
                Token::Second2 => write!(out, "{:02}", c.second),
                Token::Second1 => write!(out, "{}", c.second),
                Token::PmUpper => write!(out, "{}", if c.hour >= 12 { "PM" } else { "AM" }),
                Token::PmLower => write!(out, "{}", if c.hour >= 12 { "pm" } else { "am" }),
                Token::ZoneName => {
                    if self.zone.is_empty() {
                        write!(out, "{}", offset_text(self.offset, false, false, false))
                    } else {
                        write!(out, "{}", self.zone)
                    }
                }
                Token::Offset { z, colon, seconds, hours_only } => {
                    if z && self.offset == 0 {
                        write!(out, "Z")
                    } else if hours_only {
                        write!(out, "{}{:02}", if self.offset < 0 { '-' } else { '+' }, self.offset.abs() / 3600)
                    } else {
                        write!(out, "{}", offset_text(self.offset, colon, seconds, true))
                    }
                }
                Token::Fraction { digits, trim } => {
                    let text = format!("{:09}", self.nanos);
                    let mut frac = text[..digits].to_owned();
                    if trim {
                        frac = frac.trim_end_matches('0').to_owned();
                    }
                    if !frac.is_empty() {
                        out.push('.');
                        out.push_str(&frac);
                    }
                    Ok(())
                }
            };
        }
        out
    }

    /// Go's `time.Parse(layout, value)` (in UTC when the value names no zone).
    ///
    /// # Errors
    ///
    /// Go's `parsing time "VALUE" as "LAYOUT": cannot parse "REST" as "TOKEN"`.
    pub(crate) fn parse(layout: &str, value: &str) -> Result<GoTime, String> {
        let fail =
            |rest: &str, what: &str| format!("parsing time {value:?} as {layout:?}: cannot parse {rest:?} as {what:?}");
        let (mut year, mut month, mut day, mut hour, mut minute, mut second, mut nanos) = (1_i64, 1, 1, 0, 0, 0, 0_u32);
        let mut offset = 0_i32;
        let mut pm: Option<bool> = None;
        let mut l = layout;
        let mut v = value;
        while !l.is_empty() {
            let Some((token, len)) = next_token(l) else {
                let ch = l.chars().next().unwrap_or(' ');
                if !v.starts_with(ch) {
                    return Err(fail(v, &l[..ch.len_utf8()]));
                }
                l = &l[ch.len_utf8()..];
                v = &v[ch.len_utf8()..];
                continue;
            };
            let name = &l[..len];
            l = &l[len..];
            let digits = |v: &str, min: usize, max: usize| -> Option<(i64, usize)> {
                let n = v.bytes().take(max).take_while(u8::is_ascii_digit).count();
                (n >= min).then(|| v[..n].parse().ok().map(|x| (x, n)))?
            };
            let (value_of, used) = match token {
                Token::Year4 => digits(v, 4, 4).ok_or_else(|| fail(v, name))?,
                Token::Year2 => digits(v, 2, 2)
                    .map(|(y, n)| (if y >= 69 { 1900 + y } else { 2000 + y }, n))
                    .ok_or_else(|| fail(v, name))?,
                Token::Month2 | Token::Day2 | Token::Hour24 | Token::Hour12Pad | Token::Minute2 | Token::Second2 => {
                    digits(v, 2, 2).ok_or_else(|| fail(v, name))?
                }
                Token::Month1 | Token::Day1 | Token::Hour12 | Token::Minute1 | Token::Second1 => {
                    digits(v, 1, 2).ok_or_else(|| fail(v, name))?
                }
                Token::DaySpace => {
                    let trimmed = v.strip_prefix(' ').unwrap_or(v);
                    let (d, n) = digits(trimmed, 1, 2).ok_or_else(|| fail(v, name))?;
                    (d, n + v.len() - trimmed.len())
                }
                Token::YearDay => digits(v, 3, 3).ok_or_else(|| fail(v, name))?,
                Token::MonthLong | Token::MonthShort => {
                    let found = MONTHS.iter().enumerate().find_map(|(i, m)| {
                        let m = if token == Token::MonthShort { &m[..3] } else { m };
                        v.get(..m.len())
                            .filter(|p| p.eq_ignore_ascii_case(m))
                            .map(|_| (i64::try_from(i).unwrap_or(0) + 1, m.len()))
                    });
                    found.ok_or_else(|| fail(v, name))?
                }
                Token::DayLong | Token::DayShort => {
                    let found = DAYS.iter().find_map(|d| {
                        let d = if token == Token::DayShort { &d[..3] } else { d };
                        v.get(..d.len()).filter(|p| p.eq_ignore_ascii_case(d)).map(|_| (0, d.len()))
                    });
                    found.ok_or_else(|| fail(v, name))?
                }
                Token::PmUpper | Token::PmLower => match v.get(..2).map(str::to_ascii_uppercase).as_deref() {
                    Some("PM") => (1, 2),
                    Some("AM") => (0, 2),
                    _ => return Err(fail(v, name)),
                },
                Token::ZoneName => {
                    let n = v.bytes().take_while(u8::is_ascii_uppercase).count();
                    if n < 3 {
                        return Err(fail(v, name));
                    }
                    (0, n)
                }
                Token::Offset { z, colon, seconds, hours_only } => {
                    if z && v.starts_with('Z') {
                        (0, 1)
                    } else {
                        let (off, n) = parse_offset(v, colon, seconds, hours_only).ok_or_else(|| fail(v, name))?;
                        offset = off;
                        (0, n)
                    }
                }
                Token::Fraction { .. } => {
                    let n = v.strip_prefix('.').map_or(0, |f| f.bytes().take_while(u8::is_ascii_digit).count());
                    if n > 0 {
                        let text = format!("{:0<9}", &v[1..=n.min(9)]);
                        nanos = text.parse().unwrap_or(0);
                    }
                    (0, if n > 0 { n + 1 } else { 0 })
                }
            };
            match token {
                Token::Year4 | Token::Year2 => year = value_of,
                Token::Month2 | Token::Month1 | Token::MonthLong | Token::MonthShort => month = value_of,
                Token::Day2 | Token::Day1 | Token::DaySpace => day = value_of,
                Token::Hour24 | Token::Hour12 | Token::Hour12Pad => hour = value_of,
                Token::Minute2 | Token::Minute1 => minute = value_of,
                Token::Second2 | Token::Second1 => second = value_of,
                Token::PmUpper | Token::PmLower => pm = Some(value_of == 1),
                _ => {}
            }
            v = &v[used..];
        }
        if !v.is_empty() {
            return Err(format!("parsing time {value:?}: extra text: {v:?}"));
        }
        if let Some(pm) = pm {
            hour = hour % 12 + if pm { 12 } else { 0 };
        }
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
            return Err(format!("parsing time {value:?}: day out of range"));
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - i64::from(offset);
        let zone = if offset == 0 { "UTC".to_owned() } else { String::new() };
        Ok(GoTime { secs, nanos, offset, zone, monotonic: None })
    }

    /// Go's `Time.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`, with `m=±S` when
    /// the time has a monotonic reading.
    #[must_use]
    pub(crate) fn go_string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.monotonic {
            let _ = write!(s, " m={}{m:.9}", if m < 0.0 { "" } else { "+" });
        }
        s
    }
}

fn offset_text(offset: i32, colon: bool, seconds: bool, _signed: bool) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.abs();
    let sep = if colon { ":" } else { "" };
    let mut s = format!("{sign}{:02}{sep}{:02}", a / 3600, a % 3600 / 60);
    if seconds {
        let _ = write!(s, "{sep}{:02}", a % 60);
    }
    s
}

fn parse_offset(v: &str, colon: bool, seconds: bool, hours_only: bool) -> Option<(i32, usize)> {
    let sign = match v.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let num = |s: &str| -> Option<i32> { s.get(..2).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?.parse().ok() };
    let h = num(&v[1..])?;
    if hours_only {
        return Some((sign * h * 3600, 3));
    }
    let mut at = 3 + usize::from(colon);
    let m = num(v.get(at..)?)?;
    at += 2;
    let mut s = 0;
    if seconds {
        at += usize::from(colon);
        s = num(v.get(at..)?)?;
        at += 2;
    }
    Some((sign * (h * 3600 + m * 60 + s), at))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Year4,
    Year2,
    MonthLong,
    MonthShort,
    Month2,
    Month1,
    DayLong,
    DayShort,
    Day2,
    DaySpace,
    Day1,
    YearDay,
    Hour24,
    Hour12,
    Hour12Pad,
    Minute2,
    Minute1,
    Second2,
    Second1,
    PmUpper,
    PmLower,
    ZoneName,
    Offset { z: bool, colon: bool, seconds: bool, hours_only: bool },
    Fraction { digits: usize, trim: bool },
}

/// The layout element at the start of `s` (Go's `nextStdChunk`), with its length.
fn next_token(s: &str) -> Option<(Token, usize)> {
    const TABLE: &[(&str, Token)] = &[
        ("January", Token::MonthLong),
        ("Jan", Token::MonthShort),
        ("Monday", Token::DayLong),
        ("Mon", Token::DayShort),
        ("MST", Token::ZoneName),
        ("2006", Token::Year4),
        ("2", Token::Day1),
        ("_2", Token::DaySpace),
        ("__2", Token::YearDay),
        ("002", Token::YearDay),
        ("01", Token::Month2),
        ("02", Token::Day2),
        ("03", Token::Hour12Pad),
        ("04", Token::Minute2),
        ("05", Token::Second2),
        ("06", Token::Year2),
        ("1", Token::Month1),
        ("15", Token::Hour24),
        ("3", Token::Hour12),
        ("4", Token::Minute1),
        ("5", Token::Second1),
        ("PM", Token::PmUpper),
        ("pm", Token::PmLower),
        ("Z070000", Token::Offset { z: true, colon: false, seconds: true, hours_only: false }),
        ("Z07:00:00", Token::Offset { z: true, colon: true, seconds: true, hours_only: false }),
        ("Z0700", Token::Offset { z: true, colon: false, seconds: false, hours_only: false }),
        ("Z07:00", Token::Offset { z: true, colon: true, seconds: false, hours_only: false }),
        ("Z07", Token::Offset { z: true, colon: false, seconds: false, hours_only: true }),
        ("-070000", Token::Offset { z: false, colon: false, seconds: true, hours_only: false }),
        ("-07:00:00", Token::Offset { z: false, colon: true, seconds: true, hours_only: false }),
        ("-0700", Token::Offset { z: false, colon: false, seconds: false, hours_only: false }),
        ("-07:00", Token::Offset { z: false, colon: true, seconds: false, hours_only: false }),
        ("-07", Token::Offset { z: false, colon: false, seconds: false, hours_only: true }),
    ];
    if let Some(frac) = s.strip_prefix(['.', ',']) {
        let digits = frac.bytes().take_while(|b| *b == b'0' || *b == b'9').collect::<Vec<_>>();
        let same = digits.first().is_some_and(|f| digits.iter().all(|d| d == f));
        let next_is_digit = frac.as_bytes().get(digits.len()).is_some_and(u8::is_ascii_digit);
        if !digits.is_empty() && same && !next_is_digit && digits.len() <= 9 {
            return Some((Token::Fraction { digits: digits.len(), trim: digits[0] == b'9' }, digits.len() + 1));
        }
    }
    // The longest match wins; "Jan" must not be read inside "January", "2" inside "2006".
    TABLE
        .iter()
        .filter(|(text, _)| s.starts_with(text))
        .filter(|(text, _)| {
            // Go reads "Mon"/"Jan" only when not followed by a lower-case letter.
            !(matches!(*text, "Mon" | "Jan") && s[text.len()..].starts_with(|c: char| c.is_ascii_lowercase()))
        })
        .max_by_key(|(text, _)| text.len())
        .map(|(text, token)| (*token, text.len()))
}

/// Go's `Duration.String()`.
#[must_use]
pub(crate) fn duration_string(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&fraction(u, div));
        out.push_str(unit);
    } else {
        let secs = u / 1_000_000_000;
        let (h, m) = (secs / 3600, secs % 3600 / 60);
        if h > 0 {
            let _ = write!(out, "{h}h");
        }
        if h > 0 || m > 0 {
            let _ = write!(out, "{m}m");
        }
        out.push_str(&fraction(u % 60_000_000_000, 1_000_000_000));
        out.push('s');
    }
    if neg { format!("-{out}") } else { out }
}

fn fraction(value: u64, div: u64) -> String {
    let whole = value / div;
    let rest = value % div;
    if rest == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let frac = format!("{rest:0width$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Go's `time.ParseDuration`, in nanoseconds.
///
/// # Errors
///
/// Go's `time: invalid duration "X"` (or `unknown unit`, `missing unit`).
pub(crate) fn parse_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {text:?}");
    let (neg, mut s) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !s.is_empty() {
        let n = s.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        if n == 0 {
            return Err(invalid());
        }
        let number: f64 = s[..n].parse().map_err(|_| invalid())?;
        s = &s[n..];
        let u = s.bytes().take_while(|b| !b.is_ascii_digit() && *b != b'.').count();
        if u == 0 {
            return Err(format!("time: missing unit in duration {text:?}"));
        }
        let unit = match &s[..u] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            other => return Err(format!("time: unknown unit {other:?} in duration {text:?}")),
        };
        total += number * unit;
        s = &s[u..];
    }
    if total > 9.223_372_036_854_775e18 {
        return Err(invalid());
    }
    #[allow(clippy::cast_possible_truncation)]
    let nanos = total.round() as i64;
    Ok(if neg { -nanos } else { nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_go_layouts() {
        let t = GoTime::parse("2006-01-02T15:04:05Z07:00", "2024-03-05T17:08:09+02:00").expect("parses");
        assert_eq!(t.secs, 1_709_651_289);
        assert_eq!(
            t.in_zone("UTC").expect("UTC").format("Mon Jan _2 03:04:05 PM 2006 MST"),
            "Tue Mar  5 03:08:09 PM 2024 UTC"
        );
        assert_eq!(
            GoTime::from_unix(0).format("2006-01-02 15:04:05.000 -0700 002"),
            "1970-01-01 00:00:00.000 +0000 001"
        );
        assert_eq!(GoTime::from_unix(86_400 * 365).add(1_500_000_000).go_string(), "1971-01-01 00:00:01.5 +0000 UTC");
    }

    #[test]
    fn durations_print_and_parse_as_go() {
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(90 * 1_000_000_000), "1m30s");
        assert_eq!(duration_string(3_600_500_000_000), "1h0m0.5s");
        assert_eq!(duration_string(1_500), "1.5µs");
        assert_eq!(duration_string(-2_000_000), "-2ms");
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("-1.5s"), Ok(-1_500_000_000));
        assert!(parse_duration("5x").is_err());
    }
}

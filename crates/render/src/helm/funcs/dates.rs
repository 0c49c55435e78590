//! Sprig's date functions (`now`, `date`, `dateInZone`, `toDate`, `dateModify`, `ago`,
//! `duration`, `durationRound`, `unixEpoch`, `htmlDate`, ...) and Helm v4's duration helpers
//! (`mustToDuration`, `durationSeconds`, ..., `durationRoundTo`, `durationTruncateTo`).
//!
//! Times are [`GoTime`] objects printing as Go's `Time.String()`; durations print as Go's
//! `Duration.String()`. Zone support: `UTC` and `Local` (taken as UTC); other zone names fall
//! back to UTC, where Go would load them from the system's zone database.

use std::sync::Arc;

use super::golang_time::{GoTime, duration_string, parse_duration};
use super::{add, want_str};
use crate::helm::template::{Arity, FuncError, FuncMap, TemplateObject, Value};

/// A Go `time.Time` in a template.
#[derive(Debug)]
pub(crate) struct TimeValue(pub GoTime);

/// A Go `time.Duration` (nanoseconds) in a template.
#[derive(Debug)]
pub(crate) struct DurationValue(pub i64);

#[allow(clippy::cast_precision_loss)]
fn seconds(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

impl TemplateObject for TimeValue {
    fn type_name(&self) -> &'static str {
        "time.Time"
    }

    fn field(&self, name: &str) -> Option<Value> {
        let t = &self.0;
        Some(match name {
            "Unix" => Value::Int(t.secs),
            "UnixNano" => Value::Int(i64::try_from(t.unix_nanos()).unwrap_or(i64::MAX)),
            "Year" => Value::Int(t.format("2006").parse().unwrap_or(0)),
            "String" => Value::from(t.go_string()),
            "UTC" | "Local" => Value::Object(Arc::new(TimeValue(t.in_zone("UTC")?))),
            _ => return None,
        })
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        Some(match (name, args) {
            ("Format", [Value::String(layout)]) => Ok(Value::from(self.0.format(layout))),
            ("Format", [other]) => Err(format!("wrong type for value; expected string; got {}", other.type_name())),
            ("Add", [d]) => as_duration(d).map(|d| Value::Object(Arc::new(TimeValue(self.0.add(d))))),
            _ => return None,
        })
    }

    fn display(&self) -> String {
        self.0.go_string()
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl TemplateObject for DurationValue {
    fn type_name(&self) -> &'static str {
        "time.Duration"
    }

    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "Seconds" => Value::Float(seconds(self.0)),
            "Minutes" => Value::Float(seconds(self.0) / 60.0),
            "Hours" => Value::Float(seconds(self.0) / 3600.0),
            "Milliseconds" => Value::Int(self.0 / 1_000_000),
            "Nanoseconds" => Value::Int(self.0),
            "String" => Value::from(duration_string(self.0)),
            _ => return None,
        })
    }

    fn display(&self) -> String {
        duration_string(self.0)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

fn as_time(v: &Value) -> Option<GoTime> {
    match v {
        Value::Object(o) => o.as_any()?.downcast_ref::<TimeValue>().map(|t| t.0.clone()),
        _ => None,
    }
}

/// A `time.Time` parameter: Go refuses anything else before the call.
fn want_time(v: &Value) -> Result<GoTime, FuncError> {
    as_time(v).ok_or_else(|| {
        FuncError::Arg(match v {
            Value::Missing | Value::Nil => "invalid value; expected time.Time".to_owned(),
            other => format!("wrong type for value; expected time.Time; got {}", other.type_name()),
        })
    })
}

fn time_value(t: GoTime) -> Value {
    Value::Object(Arc::new(TimeValue(t)))
}

/// Sprig's reading of a date argument: a time, or Unix seconds in an `int`; anything else
/// is now.
fn date_arg(v: &Value) -> GoTime {
    match v {
        Value::Int(secs) => GoTime::from_unix(*secs),
        other => as_time(other).unwrap_or_else(GoTime::now),
    }
}

fn date_in_zone(layout: &str, date: &Value, zone: &str) -> String {
    let t = date_arg(date);
    t.in_zone(zone).or_else(|| t.in_zone("UTC")).unwrap_or(t).format(layout)
}

/// Helm's `asDuration`: a duration, a Go duration string, or seconds as a number.
fn as_duration(v: &Value) -> Result<i64, String> {
    let from_secs = |f: f64| -> Result<i64, String> {
        if !f.is_finite() {
            return Err(format!("invalid duration seconds: {f}"));
        }
        let nanos = f * 1e9;
        if nanos.abs() > 9.2e18 {
            return Err(format!("duration seconds overflow: {f}"));
        }
        #[allow(clippy::cast_possible_truncation)]
        Ok(nanos as i64)
    };
    match v {
        Value::Object(o) => o
            .as_any()
            .and_then(|a| a.downcast_ref::<DurationValue>())
            .map(|d| d.0)
            .ok_or_else(|| format!("unsupported duration type {}", o.type_name())),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Err("empty duration".to_owned());
            }
            parse_duration(s).or_else(|_| {
                s.parse::<f64>().map_err(|_| format!("could not parse duration {s:?}")).and_then(from_secs)
            })
        }
        Value::Int(i) => i.checked_mul(1_000_000_000).ok_or_else(|| format!("duration seconds overflow: {i}")),
        Value::Float(f) => from_secs(*f),
        Value::Missing | Value::Nil => Err("invalid duration".to_owned()),
        other => Err(format!("unsupported duration type {}", other.type_name())),
    }
}

/// Sprig's `durationRound`: the largest whole unit (`y`, `mo`, `d`, `h`, `m`, `s`).
fn duration_round(nanos: i64) -> String {
    let u = nanos.unsigned_abs();
    let hour = 3_600_000_000_000_u64;
    for (unit, size) in [
        ("y", hour * 24 * 365),
        ("mo", hour * 24 * 30),
        ("d", hour * 24),
        ("h", hour),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
    ] {
        if u > size {
            return format!("{}{unit}", u / size);
        }
    }
    "0s".to_owned()
}

fn since(t: &GoTime) -> i64 {
    i64::try_from(GoTime::now().unix_nanos() - t.unix_nanos()).unwrap_or(i64::MAX)
}

fn duration_helper(map: &mut FuncMap, name: &str, f: fn(i64) -> Value) {
    add(map, name, Arity::Exact(1), move |_, a| Ok(as_duration(&a[0]).map_or(Value::Int(0), f)));
}

pub(super) fn register(map: &mut FuncMap) {
    add(map, "now", Arity::Exact(0), |_, _| Ok(time_value(GoTime::now())));
    add(map, "date", Arity::Exact(2), |_, a| Ok(Value::from(date_in_zone(want_str(&a[0])?, &a[1], "Local"))));
    add(map, "dateInZone", Arity::Exact(3), |_, a| {
        Ok(Value::from(date_in_zone(want_str(&a[0])?, &a[1], want_str(&a[2])?)))
    });
    map.insert("date_in_zone".to_owned(), map["dateInZone"].clone());
    add(map, "htmlDate", Arity::Exact(1), |_, a| Ok(Value::from(date_in_zone("2006-01-02", &a[0], "Local"))));
    add(map, "htmlDateInZone", Arity::Exact(2), |_, a| {
        Ok(Value::from(date_in_zone("2006-01-02", &a[0], want_str(&a[1])?)))
    });
    add(map, "dateModify", Arity::Exact(2), |_, a| {
        let t = want_time(&a[1])?;
        Ok(time_value(match parse_duration(want_str(&a[0])?) {
            Ok(d) => t.add(d),
            Err(_) => t,
        }))
    });
    map.insert("date_modify".to_owned(), map["dateModify"].clone());
    add(map, "mustDateModify", Arity::Exact(2), |_, a| {
        let t = want_time(&a[1])?;
        Ok(time_value(t.add(parse_duration(want_str(&a[0])?)?)))
    });
    add(map, "toDate", Arity::Exact(2), |_, a| {
        let parsed = GoTime::parse(want_str(&a[0])?, want_str(&a[1])?);
        Ok(time_value(parsed.unwrap_or_else(|_| GoTime::from_unix(-62_135_596_800))))
    });
    add(map, "mustToDate", Arity::Exact(2), |_, a| Ok(time_value(GoTime::parse(want_str(&a[0])?, want_str(&a[1])?)?)));
    add(map, "unixEpoch", Arity::Exact(1), |_, a| Ok(Value::from(want_time(&a[0])?.secs.to_string())));
    add(map, "ago", Arity::Exact(1), |_, a| {
        let d = since(&date_arg(&a[0]));
        // Go's `Duration.Round(time.Second)`: halves away from zero.
        let rounded = (d + d.signum() * 500_000_000) / 1_000_000_000 * 1_000_000_000;
        Ok(Value::from(duration_string(rounded)))
    });
    add(map, "duration", Arity::Exact(1), |_, a| {
        // Sprig reads a string or an `int64`; a template's `int` (and any other type) is 0.
        let secs = match &a[0] {
            Value::String(s) => s.parse::<i64>().unwrap_or(0),
            _ => 0,
        };
        Ok(Value::from(duration_string(secs.saturating_mul(1_000_000_000))))
    });
    add(map, "durationRound", Arity::Exact(1), |_, a| {
        let nanos = match &a[0] {
            Value::String(s) => parse_duration(s).unwrap_or(0),
            other => as_time(other).map_or(0, |t| since(&t)),
        };
        Ok(Value::from(duration_round(nanos)))
    });
    add(map, "mustToDuration", Arity::Exact(1), |_, a| Ok(Value::Object(Arc::new(DurationValue(as_duration(&a[0])?)))));
    duration_helper(map, "durationSeconds", |d| Value::Float(seconds(d)));
    duration_helper(map, "durationMilliseconds", |d| Value::Int(d / 1_000_000));
    duration_helper(map, "durationMicroseconds", |d| Value::Int(d / 1_000));
    duration_helper(map, "durationNanoseconds", Value::Int);
    duration_helper(map, "durationMinutes", |d| Value::Float(seconds(d) / 60.0));
    duration_helper(map, "durationHours", |d| Value::Float(seconds(d) / 3600.0));
    duration_helper(map, "durationDays", |d| Value::Float(seconds(d) / 3600.0 / 24.0));
    duration_helper(map, "durationWeeks", |d| Value::Float(seconds(d) / 3600.0 / 24.0 / 7.0));
    for (name, round) in [("durationRoundTo", true), ("durationTruncateTo", false)] {
        add(map, name, Arity::Exact(2), move |_, a| {
            let Ok(d) = as_duration(&a[0]) else {
                return Ok(Value::Object(Arc::new(DurationValue(0))));
            };
            let m = as_duration(&a[1]).unwrap_or(0);
            let out = if m <= 0 {
                d
            } else if round {
                // Go's `Duration.Round`: halves away from zero.
                let r = d % m;
                if d < 0 {
                    if -r + -r < m { d - r } else { d - r - m }
                } else if r + r < m {
                    d - r
                } else {
                    d - r + m
                }
            } else {
                d - d % m
            };
            Ok(Value::Object(Arc::new(DurationValue(out))))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helm::funcs::helm_funcs;
    use crate::helm::template::Templates;

    fn run(text: &str) -> String {
        let mut set = Templates::new().with_funcs(helm_funcs());
        set.parse("t", text).expect("parses");
        set.execute("t", &Value::Missing).expect("runs")
    }

    /// `now` and `ago` cannot match a golden: their shape is checked instead.
    #[test]
    fn now_and_ago_have_go_shapes() {
        let shape =
            regex::Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC m=\+0\.000000000$").expect("regex");
        let now = run("{{ now }}");
        assert!(shape.is_match(&now), "{now}");
        let year: i64 = run(r#"{{ now | date "2006" }}"#).parse().expect("a year");
        assert!(year >= 2024);
        assert_eq!(run("{{ ago now }}"), "0s");
        let ago = run(r#"{{ ago (now | dateModify "-90m") }}"#);
        assert!(ago == "1h30m0s" || ago == "1h30m1s", "{ago}");
        assert_eq!(run(r#"{{ durationRound (now | dateModify "-50h") }}"#), "2d");
        assert_eq!(run("{{ (now | unixEpoch | atoi) | le 1700000000 }}"), "true");
    }

    #[test]
    fn duration_round_picks_the_largest_unit() {
        assert_eq!(duration_round(parse_duration("2h10m").unwrap_or(0)), "2h");
        assert_eq!(duration_round(parse_duration("400h").unwrap_or(0)), "16d");
        assert_eq!(duration_round(0), "0s");
    }
}

//! The part of Masterminds/semver v3 the chart layer needs: parsing chart versions (leniently,
//! as `semver.NewVersion`) and checking them against constraints (`IsCompatibleRange`), for
//! dependency versions and `kubeVersion`.
//!
//! Supported constraint syntax: `||` alternatives; conditions separated by commas or spaces;
//! `=`, `!=`, `>`, `<`, `>=`, `<=`, `=<`, `=>`, `~`, `~>`, `^`; `x`/`X`/`*` wildcards and partial
//! versions; hyphen ranges `1.2 - 1.4.5`. As in Masterminds v3, a pre-release version matches
//! only constraints that carry a pre-release themselves.

use std::cmp::Ordering;

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<String>,
}

impl Version {
    fn cmp_version(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch)).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_pre(&self.pre, &other.pre),
            }
        })
    }
}

fn compare_pre(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Parses a version as `semver.NewVersion` does: an optional `v`, one to three numbers, an
/// optional pre-release and build metadata.
pub(crate) fn parse(text: &str) -> Option<Version> {
    // Partial versions are valid (`1.2` is `1.2.0`), wildcards are not.
    let (v, _, wild) = parse_partial(text)?;
    (!wild).then_some(v)
}

/// Parses a possibly partial version; the second value is how many parts were given as
/// numbers (3 when complete; fewer when parts are missing or wildcards), the third whether a
/// wildcard was used.
fn parse_partial(text: &str) -> Option<(Version, usize, bool)> {
    let t = text.trim();
    let t = t.strip_prefix('v').unwrap_or(t);
    let (t, _build) = t.split_once('+').unwrap_or((t, ""));
    let (core, pre) = match t.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (t, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut nums = [0_u64; 3];
    let mut given = 0;
    let mut wild = false;
    for (i, p) in parts.iter().enumerate() {
        if matches!(*p, "x" | "X" | "*") {
            wild = true;
            continue;
        }
        if wild || p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        nums[i] = p.parse().ok()?;
        given += 1;
    }
    let pre = match pre {
        Some("") => return None,
        Some(p) => p.split('.').map(str::to_owned).collect(),
        None => Vec::new(),
    };
    Some((Version { major: nums[0], minor: nums[1], patch: nums[2], pre }, given, wild))
}

/// Whether `version` satisfies `constraint` (Helm's `IsCompatibleRange`: false when either
/// does not parse).
pub(crate) fn matches(constraint: &str, version: &str) -> bool {
    let Some(v) = parse(version) else { return false };
    let mut result = false;
    for group in constraint.split("||") {
        match check_group(group, &v) {
            Some(ok) => result |= ok,
            None => return false,
        }
    }
    result
}

/// `None` when the group does not parse.
fn check_group(group: &str, v: &Version) -> Option<bool> {
    let tokens = tokens(group)?;
    if tokens.is_empty() {
        return None;
    }
    let mut ok = true;
    let mut pre_allowed = false;
    for (op, text) in &tokens {
        let (c, given, _) = parse_partial(text)?;
        if !c.pre.is_empty() {
            pre_allowed = true;
        }
        ok &= check(op, &c, given, v);
    }
    if !v.pre.is_empty() && !pre_allowed {
        return Some(false);
    }
    Some(ok)
}

/// Splits a group into `(operator, version)` pairs; a hyphen range becomes `>=` and `<=`.
fn tokens(group: &str) -> Option<Vec<(String, String)>> {
    let words: Vec<&str> = group.split([',', ' ']).filter(|w| !w.is_empty()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if words.get(i + 1) == Some(&"-") {
            let hi = words.get(i + 2)?;
            out.push((">=".to_owned(), words[i].to_owned()));
            out.push(("<=".to_owned(), (*hi).to_owned()));
            i += 3;
            continue;
        }
        let w = words[i];
        let split = w.find(|c: char| c.is_ascii_alphanumeric() || c == '*').unwrap_or(w.len());
        let (op, ver) = w.split_at(split);
        if ver.is_empty() {
            // An operator separated from its version by a space.
            let next = words.get(i + 1)?;
            out.push((op.to_owned(), (*next).to_owned()));
            i += 2;
            continue;
        }
        out.push((op.to_owned(), ver.to_owned()));
        i += 1;
    }
    Some(out)
}

fn check(op: &str, c: &Version, given: usize, v: &Version) -> bool {
    let bump = |level: usize| -> Version {
        match level {
            0 => Version { major: c.major + 1, minor: 0, patch: 0, pre: Vec::new() },
            1 => Version { major: c.major, minor: c.minor + 1, patch: 0, pre: Vec::new() },
            _ => Version { major: c.major, minor: c.minor, patch: c.patch + 1, pre: Vec::new() },
        }
    };
    let lt = |hi: &Version| v.cmp_version(hi) == Ordering::Less;
    let ge = v.cmp_version(c) != Ordering::Less;
    match op {
        "" | "=" | "==" => {
            if given == 3 {
                v.cmp_version(c) == Ordering::Equal
            } else if given == 0 {
                true
            } else {
                ge && lt(&bump(given - 1))
            }
        }
        "!=" => {
            if given == 3 {
                v.cmp_version(c) != Ordering::Equal
            } else if given == 0 {
                false
            } else {
                !(ge && lt(&bump(given - 1)))
            }
        }
        ">" => {
            if given == 3 {
                v.cmp_version(c) == Ordering::Greater
            } else if given == 0 {
                false
            } else {
                !lt(&bump(given - 1))
            }
        }
        ">=" | "=>" => ge,
        "<" => v.cmp_version(c) == Ordering::Less,
        "<=" | "=<" => {
            if given == 3 || given == 0 {
                given == 0 || v.cmp_version(c) != Ordering::Greater
            } else {
                lt(&bump(given - 1))
            }
        }
        "~" | "~>" => {
            if given == 0 {
                true
            } else {
                ge && lt(&bump(usize::from(given != 1)))
            }
        }
        "^" => {
            if given == 0 {
                return true;
            }
            let hi = if c.major > 0 || given == 1 {
                bump(0)
            } else if c.minor > 0 || given == 2 {
                bump(1)
            } else {
                bump(2)
            };
            ge && lt(&hi)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_as_masterminds() {
        assert!(matches("1.2.3", "1.2.3"));
        assert!(!matches("1.2.3", "1.2.4"));
        assert!(matches("~1.2.0", "1.2.9"));
        assert!(!matches("~1.2.0", "1.3.0"));
        assert!(matches("^1.2.0", "1.9.0"));
        assert!(!matches("^1.2.0", "2.0.0"));
        assert!(matches("^0.2.3", "0.2.9"));
        assert!(!matches("^0.2.3", "0.3.0"));
        assert!(matches(">=1.19.0-0", "v1.37.0"));
        assert!(matches(">= 1.19.0, < 2.0.0", "1.20.0"));
        assert!(matches("1.x", "1.5.0"));
        assert!(matches("*", "3.0.0"));
        assert!(matches("<1.0.0 || >=2.0.0", "2.1.0"));
        assert!(matches("1.0 - 1.4", "1.4.0"));
        assert!(!matches(">=1.0.0", "1.5.0-beta.1"));
        assert!(matches(">=1.0.0-0", "1.5.0-beta.1"));
        assert!(!matches("", "1.0.0"));
        assert!(!matches(">=1.0.0", "not-a-version"));
        assert!(parse("1.2").is_some());
        assert!(parse("v1.2.3-rc.1+build").is_some());
        assert!(parse("1.2.x").is_none());
    }
}

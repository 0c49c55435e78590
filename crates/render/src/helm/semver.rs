//! Semantic versions and constraints with the rules of Masterminds/semver v3, which Helm uses
//! for `semverCompare`, chart dependencies and `--version` ranges: loose versions (`v1.2`),
//! `||` of `,`/space-separated comparisons, `1.2 - 1.4` ranges, `x`/`*` wildcards, `~` and `^`,
//! and pre-releases only matched by a range that names one.
//!
//! ```
//! use gitops_render::helm::semver::{Constraints, Version};
//! let c = Constraints::parse(">= 1.2, < 2 || ^3.1").unwrap();
//! assert!(c.check(&Version::parse("1.9.0").unwrap()));
//! assert!(c.check(&Version::parse("v3.4").unwrap()));
//! assert!(!c.check(&Version::parse("2.0.0").unwrap()));
//! assert!(!c.check(&Version::parse("1.3.0-rc.1").unwrap()));
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

/// Why a version or a constraint does not parse (Masterminds/semver's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SemverError {
    /// Not a version.
    #[error("{0}")]
    Version(&'static str),
    /// Not a constraint.
    #[error("improper constraint: {0}")]
    Constraint(String),
}

/// A semantic version, parsed loosely (`v` prefix, missing minor or patch) as Masterminds
/// parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Major number.
    pub major: u64,
    /// Minor number.
    pub minor: u64,
    /// Patch number.
    pub patch: u64,
    /// Pre-release (after `-`), empty when none.
    pub pre: String,
    /// Build metadata (after `+`), empty when none.
    pub metadata: String,
    /// The text parsed.
    pub original: String,
}

const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the patterns are constants of this file, compiled by its tests")
}

static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$",
    )
});
static LOOSE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$",
    )
});
static CONSTRAINT: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"^\s*({OPS})\s*({CV})\s*$")));
static RANGE: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"\s*({CV})\s+-\s+({CV})\s*")));
static FIND: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"({OPS})\s*({CV})")));
static VALID: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$")));

impl Version {
    /// Parses `text` as Masterminds' `NewVersion` does.
    ///
    /// # Errors
    ///
    /// Masterminds' message: `invalid semantic version`, `version segment starts with 0`, ...
    pub fn parse(text: &str) -> Result<Version, SemverError> {
        let Some(m) = VERSION.captures(text) else {
            if let Some(loose) = LOOSE.captures(text) {
                let zero_led = |i: usize| {
                    loose.get(i).is_some_and(|g| {
                        g.as_str().trim_start_matches('.').len() > 1
                            && g.as_str().trim_start_matches('.').starts_with('0')
                    })
                };
                if zero_led(1) || zero_led(2) || zero_led(3) {
                    return Err(SemverError::Version("version segment starts with 0"));
                }
                if loose.get(5).is_some_and(|p| {
                    p.as_str()
                        .split('.')
                        .any(|s| s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()))
                }) {
                    return Err(SemverError::Version("version segment starts with 0"));
                }
            }
            return Err(SemverError::Version("invalid semantic version"));
        };
        let num = |i: usize| -> Result<u64, SemverError> {
            m.get(i).map_or(Ok(0), |g| {
                g.as_str().parse().map_err(|_| SemverError::Version("error parsing version segment"))
            })
        };
        Ok(Version {
            major: num(1)?,
            minor: num(2)?,
            patch: num(3)?,
            pre: m.get(4).map_or("", |g| g.as_str()).to_owned(),
            metadata: m.get(5).map_or("", |g| g.as_str()).to_owned(),
            original: text.to_owned(),
        })
    }

    fn new(major: u64, minor: u64, patch: u64, pre: &str) -> Version {
        Version { major, minor, patch, pre: pre.to_owned(), metadata: String::new(), original: String::new() }
    }

    /// Precedence (metadata ignored), as Masterminds' `Compare`.
    #[must_use]
    pub fn compare(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch)).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &other.pre),
            }
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

fn compare_prerelease(left: &str, right: &str) -> Ordering {
    let (lparts, rparts): (Vec<&str>, Vec<&str>) = (left.split('.').collect(), right.split('.').collect());
    for i in 0..lparts.len().max(rparts.len()) {
        let part = compare_pre_part(lparts.get(i).copied().unwrap_or(""), rparts.get(i).copied().unwrap_or(""));
        if part != Ordering::Equal {
            return part;
        }
    }
    Ordering::Equal
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Err(_), Err(_)) => s.cmp(o),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Ok(a), Ok(b)) => a.cmp(&b),
    }
}

#[derive(Debug, Clone)]
struct Constraint {
    op: String,
    con: Version,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

impl Constraint {
    fn parse(text: &str) -> Result<Constraint, SemverError> {
        if text.is_empty() {
            return Ok(Constraint {
                op: String::new(),
                con: Version::new(0, 0, 0, ""),
                minor_dirty: false,
                patch_dirty: false,
                dirty: true,
            });
        }
        let m = CONSTRAINT.captures(text).ok_or_else(|| SemverError::Constraint(format!("{text:?}")))?;
        let g = |i: usize| m.get(i).map_or("", |g| g.as_str());
        let (major, minor, patch) = (g(3), g(4).trim_start_matches('.'), g(5).trim_start_matches('.'));
        let pre = g(7);
        let number = |s: &str| s.parse::<u64>().map_err(|_| SemverError::Constraint(format!("{text:?}")));
        let (con, minor_dirty, patch_dirty, dirty) = if is_x(major) || major.is_empty() {
            (Version::new(0, 0, 0, pre), false, false, true)
        } else if is_x(minor) || minor.is_empty() {
            (Version::new(number(major)?, 0, 0, pre), true, false, true)
        } else if is_x(patch) || patch.is_empty() {
            (Version::new(number(major)?, number(minor)?, 0, pre), false, true, true)
        } else {
            (Version::new(number(major)?, number(minor)?, number(patch)?, pre), false, false, false)
        };
        Ok(Constraint { op: g(1).to_owned(), con, minor_dirty, patch_dirty, dirty })
    }

    fn check(&self, v: &Version, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        let c = &self.con;
        let cmp = v.compare(c);
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    cmp == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                cmp != Ordering::Equal
            }
            ">" => {
                if !self.dirty {
                    return cmp == Ordering::Greater;
                }
                match v.major.cmp(&c.major) {
                    Ordering::Greater => true,
                    Ordering::Less => false,
                    Ordering::Equal if self.minor_dirty => false,
                    Ordering::Equal if self.patch_dirty => v.minor > c.minor,
                    Ordering::Equal => cmp == Ordering::Greater,
                }
            }
            "<" => cmp == Ordering::Less,
            ">=" | "=>" => cmp != Ordering::Less,
            "<=" | "=<" => {
                if !self.dirty {
                    return cmp != Ordering::Greater;
                }
                !(v.major > c.major || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            "~" | "~>" => self.tilde(v),
            "^" => self.caret(v),
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        v.major == c.major && (v.minor == c.minor || self.minor_dirty)
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        c.patch == v.patch
    }
}

/// A set of constraints: `||` of groups whose comparisons must all hold.
#[derive(Debug, Clone)]
pub struct Constraints {
    groups: Vec<(Vec<Constraint>, bool)>,
    text: String,
}

impl Constraints {
    /// Parses a constraint string as Masterminds' `NewConstraint` does.
    ///
    /// # Errors
    ///
    /// `improper constraint: "..."` naming the group that does not parse.
    pub fn parse(text: &str) -> Result<Constraints, SemverError> {
        let mut rewritten = text.to_owned();
        for m in RANGE.captures_iter(text) {
            let whole = m.get(0).map_or("", |g| g.as_str());
            let replacement =
                format!(">= {}, <= {} ", m.get(1).map_or("", |g| g.as_str()), m.get(11).map_or("", |g| g.as_str()));
            rewritten = rewritten.replacen(whole, &replacement, 1);
        }
        let mut groups = Vec::new();
        for group in rewritten.split("||") {
            if !VALID.is_match(group) {
                return Err(SemverError::Constraint(format!("{group:?}")));
            }
            let mut found: Vec<&str> = FIND.find_iter(group).map(|m| m.as_str()).collect();
            if found.is_empty() {
                found.push(group);
            }
            let constraints = found.into_iter().map(Constraint::parse).collect::<Result<Vec<_>, _>>()?;
            let has_pre = constraints.iter().any(|c| !c.con.pre.is_empty());
            groups.push((constraints, has_pre));
        }
        Ok(Constraints { groups, text: text.to_owned() })
    }

    /// Whether `version` satisfies one of the groups. Pre-releases match only a group with a
    /// pre-release in one of its comparisons.
    #[must_use]
    pub fn check(&self, version: &Version) -> bool {
        self.groups.iter().any(|(group, has_pre)| group.iter().all(|c| c.check(version, *has_pre)))
    }
}

impl fmt::Display for Constraints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(constraint: &str, version: &str) -> bool {
        Constraints::parse(constraint).expect("constraint").check(&Version::parse(version).expect("version"))
    }

    #[test]
    fn patterns_compile() {
        for r in [&*VERSION, &*LOOSE, &*CONSTRAINT, &*RANGE, &*FIND, &*VALID] {
            assert!(!r.as_str().is_empty());
        }
    }

    #[test]
    fn constraints_follow_masterminds() {
        let table = [
            (">=1.2.3", "1.2.3", true),
            (">1.2", "1.2.9", false),
            (">1.2", "1.3.0", true),
            (">11", "11.1.0", false),
            ("<=1.2", "1.2.9", true),
            ("<=1.2.3", "1.2.4", false),
            ("1.2.x", "1.2.9", true),
            ("1.2.x", "1.3.0", false),
            ("*", "4.0.0", true),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("~1", "1.9.0", true),
            ("^1.2.3", "1.9.0", true),
            ("^1.2.3", "2.0.0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("^0.0.3", "0.0.4", false),
            ("^0", "0.9.0", true),
            ("1.1 - 1.3", "1.3.0", true),
            ("1.1 - 1.3", "1.3.1", true),
            ("1.1 - 1.3", "1.4.0", false),
            ("!=1.2.x", "1.2.3", false),
            ("!=1.2.x", "1.3.0", true),
            (">=1.0.0", "1.1.0-beta", false),
            (">=1.0.0-0", "1.1.0-beta", true),
            (">1.0.0-alpha", "1.0.0-beta", true),
            ("<1.0.0-beta.2", "1.0.0-beta.11", false),
            (">= 1.2, < 2 || ^3.1", "3.4.0", true),
            (">= 1.2 < 2", "2.0.0", false),
            ("=1.2.3", "v1.2.3+build", true),
        ];
        for (c, v, want) in table {
            assert_eq!(check(c, v), want, "{c} vs {v}");
        }
    }

    #[test]
    fn parse_errors_are_masterminds_messages() {
        assert_eq!(Version::parse("1.2.3.4").expect_err("invalid").to_string(), "invalid semantic version");
        assert_eq!(Version::parse("01.2.3").expect_err("invalid").to_string(), "version segment starts with 0");
        assert_eq!(Constraints::parse(">= a").expect_err("invalid").to_string(), "improper constraint: \">= a\"");
        assert_eq!(Version::parse("v1.2").map(|v| v.to_string()), Ok("1.2.0".to_owned()));
    }
}

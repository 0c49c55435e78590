//! Semantic version ranges over tags, with the syntax and semantics Flux takes from
//! Masterminds/semver v3: `>=1.0.0 <2.0.0`, `~1.2`, `^1`, `1.x`, `1.2 - 1.4`, `a || b`.
//!
//! Masterminds differs from Cargo's `VersionReq`, so the range is parsed here and checked with
//! `semver::Version` ordering:
//! - AND is a space or a comma, OR is `||`; an operator may be followed by spaces (`>= 1.2`);
//! - versions may start with `v` and may be partial: in a constraint a missing part is a
//!   wildcard (`>1.2` is `>=1.3.0`, `<=1.2` is `<1.3.0`, `1.2` is `>=1.2.0 <1.3.0`);
//! - a pre-release version satisfies a constraint only when that constraint's own version has a
//!   pre-release (`>=1.0.0-0` admits `1.1.0-rc.1`; `>=1.0.0` never does);
//! - build metadata is ignored.

use std::fmt;

use semver::{Prerelease, Version};

/// A parsed Masterminds-style version range. Displays as given.
///
/// ```
/// use gitops_source::SemverRange;
/// let range = SemverRange::parse(">=1.0.0 <2.0.0")?;
/// let tags = ["v0.9.0", "v1.2.0", "v1.10.1", "v2.0.0", "v1.11.0-rc.1", "latest"];
/// assert_eq!(range.best(tags.iter().copied()).map(|(tag, _)| tag), Some("v1.10.1"));
/// assert!(SemverRange::parse("~1.2")?.matches_tag("1.2.9"));
/// assert!(!SemverRange::parse("^1")?.matches_tag("1.3.0-beta.1"));
/// # Ok::<(), gitops_source::SemverError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SemverRange {
    text: String,
    /// OR of ANDs.
    groups: Vec<Vec<Term>>,
}

/// One constraint: a version interval (or its complement), and whether it admits pre-releases.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    low: Option<(Version, bool)>,
    high: Option<(Version, bool)>,
    negate: bool,
    pre: bool,
}

impl Term {
    fn matches(&self, v: &Version) -> bool {
        if !v.pre.is_empty() && !self.pre {
            return false;
        }
        let above = self.low.as_ref().is_none_or(|(low, inclusive)| if *inclusive { v >= low } else { v > low });
        let below = self.high.as_ref().is_none_or(|(high, inclusive)| if *inclusive { v <= high } else { v < high });
        (above && below) != self.negate
    }
}

/// A version in a constraint: the parts given (`None` for a missing part or a wildcard).
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    pre: Prerelease,
}

impl Partial {
    fn floor(&self) -> Version {
        let mut v = Version::new(self.major.unwrap_or(0), self.minor.unwrap_or(0), self.patch.unwrap_or(0));
        v.pre = self.pre.clone();
        v
    }

    /// The first version above every version this partial matches, or `None` for `*`.
    fn ceiling(&self) -> Option<Version> {
        match (self.major, self.minor, self.patch) {
            (None, _, _) => None,
            (Some(major), None, _) => Some(ceil(major + 1, 0, 0)),
            (Some(major), Some(minor), None) => Some(ceil(major, minor + 1, 0)),
            (Some(major), Some(minor), Some(patch)) => Some(ceil(major, minor, patch + 1)),
        }
    }

    fn is_wild(&self) -> bool {
        self.patch.is_none()
    }
}

/// An exclusive upper bound below every pre-release of `major.minor.patch` too: Masterminds
/// compares the parts of a tilde, caret or wildcard range, so `~1.2` never admits `1.3.0-rc.1`.
fn ceil(major: u64, minor: u64, patch: u64) -> Version {
    let mut v = Version::new(major, minor, patch);
    v.pre = Prerelease::new("0").expect("`0` is a valid pre-release");
    v
}

impl SemverRange {
    /// Parses a Masterminds/semver constraint string.
    pub fn parse(text: &str) -> Result<SemverRange, SemverError> {
        let bad = |reason: String| SemverError { range: text.to_owned(), reason };
        if text.trim().is_empty() {
            return Err(bad("the range is empty".to_owned()));
        }
        let mut groups = Vec::new();
        for group in text.split("||") {
            let tokens = tokenize(group);
            if tokens.is_empty() {
                return Err(bad("an empty alternative around `||`".to_owned()));
            }
            let mut terms = Vec::new();
            let mut i = 0;
            while i < tokens.len() {
                if tokens.get(i + 1).is_some_and(|t| t == "-") {
                    let high =
                        tokens.get(i + 2).ok_or_else(|| bad("a hyphen range needs an upper bound".to_owned()))?;
                    let low = partial(&tokens[i]).map_err(&bad)?;
                    let high = partial(high).map_err(&bad)?;
                    let upper =
                        if high.is_wild() { high.ceiling().map(|c| (c, false)) } else { Some((high.floor(), true)) };
                    let pre = !low.pre.is_empty() || !high.pre.is_empty();
                    terms.push(Term { low: Some((low.floor(), true)), high: upper, negate: false, pre });
                    i += 3;
                } else {
                    terms.push(term(&tokens[i]).map_err(&bad)?);
                    i += 1;
                }
            }
            groups.push(terms);
        }
        Ok(SemverRange { text: text.trim().to_owned(), groups })
    }

    /// Whether `version` satisfies the range.
    pub fn matches(&self, version: &Version) -> bool {
        let mut version = version.clone();
        version.build = semver::BuildMetadata::EMPTY;
        self.groups.iter().any(|group| group.iter().all(|term| term.matches(&version)))
    }

    /// Whether the tag parses as a version (`v1.2.3`, `1.2`) that satisfies the range.
    pub fn matches_tag(&self, tag: &str) -> bool {
        parse_version(tag).is_some_and(|v| self.matches(&v))
    }

    /// The highest of `tags` that satisfies the range, with its version. Tags that are not
    /// versions are skipped; of two tags with the same version (`v1.0.0`, `1.0.0`) the greater
    /// name wins, so the choice never depends on the order given.
    pub fn best<'a>(&self, tags: impl IntoIterator<Item = &'a str>) -> Option<(&'a str, Version)> {
        tags.into_iter()
            .filter_map(|tag| parse_version(tag).filter(|v| self.matches(v)).map(|v| (tag, v)))
            .max_by(|(ta, va), (tb, vb)| va.cmp(vb).then_with(|| ta.cmp(tb)))
    }
}

impl fmt::Display for SemverRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for SemverRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SemverRange({:?})", self.text)
    }
}

/// Parses a tag as Masterminds' `NewVersion` does: an optional `v`, one to three numbers,
/// an optional pre-release and build metadata (dropped). Missing parts are zero.
pub fn parse_version(tag: &str) -> Option<Version> {
    let text = tag.strip_prefix('v').unwrap_or(tag);
    let text = text.split_once('+').map_or(text, |(v, _)| v);
    let (numbers, pre) = text.split_once('-').unwrap_or((text, ""));
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut nums = [0u64; 3];
    for (slot, part) in nums.iter_mut().zip(&parts) {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    let mut version = Version::new(nums[0], nums[1], nums[2]);
    if !pre.is_empty() {
        version.pre = Prerelease::new(pre).ok()?;
    }
    Some(version)
}

/// Splits one `||` alternative into constraints: commas and spaces separate them, an operator
/// alone is joined to the version after it, and ` - ` stays a token of its own.
fn tokenize(group: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut pending_op = String::new();
    for word in group.split([' ', ',', '\t']).filter(|w| !w.is_empty()) {
        if word != "-" && word.chars().all(|c| "<>=!~^".contains(c)) {
            pending_op.push_str(word);
            continue;
        }
        tokens.push(format!("{pending_op}{word}"));
        pending_op.clear();
    }
    if !pending_op.is_empty() {
        tokens.push(pending_op);
    }
    tokens
}

/// Parses a version of a constraint, where parts may be missing or wildcards.
fn partial(text: &str) -> Result<Partial, String> {
    let bad = || format!("{text:?} is not a version");
    let text = text.strip_prefix('v').unwrap_or(text);
    let text = text.split_once('+').map_or(text, |(v, _)| v);
    let (numbers, pre) = text.split_once('-').unwrap_or((text, ""));
    let mut parts = [None; 3];
    let split: Vec<&str> = numbers.split('.').collect();
    if split.len() > 3 {
        return Err(bad());
    }
    let mut wild = false;
    for (slot, part) in parts.iter_mut().zip(&split) {
        if matches!(*part, "x" | "X" | "*") {
            wild = true;
        } else if wild {
            // `1.x.3`: nothing may follow a wildcard but wildcards.
            return Err(bad());
        } else if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            *slot = Some(part.parse().map_err(|_| bad())?);
        } else {
            return Err(bad());
        }
    }
    let pre = if pre.is_empty() { Prerelease::EMPTY } else { Prerelease::new(pre).map_err(|_| bad())? };
    Ok(Partial { major: parts[0], minor: parts[1], patch: parts[2], pre })
}

/// Parses one constraint (`>=1.2`, `~1.2.3`, `^0.2`, `!=1.x`, `1.2.*`).
fn term(token: &str) -> Result<Term, String> {
    let split = token.find(|c: char| !"<>=!~^".contains(c)).unwrap_or(token.len());
    let (op, version) = token.split_at(split);
    if version.is_empty() {
        return Err(format!("the operator {op:?} has no version"));
    }
    let p = partial(version)?;
    let pre = !p.pre.is_empty();
    let floor = p.floor();
    let range = |low: Option<(Version, bool)>, high: Option<(Version, bool)>| Term { low, high, negate: false, pre };
    let exact_or_wild = || {
        if p.is_wild() {
            range(Some((floor.clone(), true)), p.ceiling().map(|c| (c, false)))
        } else {
            range(Some((floor.clone(), true)), Some((floor.clone(), true)))
        }
    };
    Ok(match op {
        "" | "=" | "==" => exact_or_wild(),
        "!=" => Term { negate: true, ..exact_or_wild() },
        ">" if p.is_wild() => range(p.ceiling().map(|c| (c, true)), None).or_never(p.major.is_none()),
        ">" => range(Some((floor, false)), None),
        ">=" | "=>" => range(Some((floor, true)), None),
        "<" => range(None, Some((floor, false))),
        "<=" | "=<" if p.is_wild() => range(None, p.ceiling().map(|c| (c, false))),
        "<=" | "=<" => range(None, Some((floor, true))),
        "~" | "~>" => {
            let high = match (p.major, p.minor) {
                (None, _) => None,
                (Some(major), None) => Some(ceil(major + 1, 0, 0)),
                (Some(major), Some(minor)) => Some(ceil(major, minor + 1, 0)),
            };
            range(Some((floor, true)), high.map(|h| (h, false)))
        }
        "^" => {
            let high = match (p.major, p.minor, p.patch) {
                (None, _, _) => None,
                (Some(0), None, _) => Some(ceil(1, 0, 0)),
                (Some(0), Some(0), None) => Some(ceil(0, 1, 0)),
                (Some(0), Some(0), Some(patch)) => Some(ceil(0, 0, patch + 1)),
                (Some(0), Some(minor), _) => Some(ceil(0, minor + 1, 0)),
                (Some(major), _, _) => Some(ceil(major + 1, 0, 0)),
            };
            range(Some((floor, true)), high.map(|h| (h, false)))
        }
        other => return Err(format!("unknown operator {other:?}")),
    })
}

trait OrNever {
    fn or_never(self, never: bool) -> Term;
}

impl OrNever for Term {
    /// `>*` matches nothing: an empty interval.
    fn or_never(self, never: bool) -> Term {
        if never { Term { low: None, high: None, negate: true, pre: true } } else { self }
    }
}

/// A version range that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid semver range {range:?}: {reason}")]
pub struct SemverError {
    /// The range as given.
    pub range: String,
    /// What is wrong with it.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(range: &str, yes: &[&str], no: &[&str]) {
        let parsed = SemverRange::parse(range).unwrap_or_else(|e| panic!("{e}"));
        for v in yes {
            assert!(parsed.matches_tag(v), "{range} should match {v}");
        }
        for v in no {
            assert!(!parsed.matches_tag(v), "{range} should not match {v}");
        }
    }

    /// The examples of Masterminds/semver's README and Flux's GitRepository `.spec.ref.semver` docs.
    #[test]
    fn masterminds_examples() {
        check(">=1.0.0 <2.0.0", &["1.0.0", "1.9.9", "v1.2.3"], &["0.9.9", "2.0.0", "1.5.0-rc.1"]);
        check(">= 1.2, < 3.0.0 || >= 4.2.3", &["1.2.0", "2.9.0", "4.2.3", "5.0.0"], &["1.1.9", "3.0.0", "4.2.2"]);
        check("~1.2.3", &["1.2.3", "1.2.9"], &["1.3.0", "1.2.2"]);
        check("~1", &["1.0.0", "1.9.0"], &["2.0.0"]);
        check("~2.3", &["2.3.0", "2.3.9"], &["2.4.0"]);
        check("~1.x", &["1.0.0", "1.9.0"], &["2.0.0"]);
        check("^1.2.3", &["1.2.3", "1.9.9"], &["2.0.0", "1.2.2"]);
        check("^1.2", &["1.2.0", "1.9.9"], &["2.0.0", "1.1.0"]);
        check("^1", &["1.0.0", "1.9.9"], &["2.0.0", "0.9.0", "1.3.0-beta.1"]);
        check("^2.x", &["2.0.0", "2.9.9"], &["3.0.0"]);
        check("^0.2.3", &["0.2.3", "0.2.9"], &["0.3.0"]);
        check("^0.0.3", &["0.0.3"], &["0.0.4"]);
        check("^0.0", &["0.0.0", "0.0.9"], &["0.1.0"]);
        check("^0", &["0.0.0", "0.9.9"], &["1.0.0"]);
        check("1.2.x", &["1.2.0", "1.2.9"], &["1.3.0", "1.1.9"]);
        check("1.x", &["1.0.0", "1.9.0"], &["2.0.0"]);
        check("2.*", &["2.0.0", "2.5.1"], &["3.0.0"]);
        check("*", &["0.0.1", "9.9.9"], &["1.0.0-alpha"]);
        check("1.2 - 1.4.5", &["1.2.0", "1.4.5"], &["1.4.6", "1.1.9"]);
        check("2.3.4 - 4.5", &["2.3.4", "4.5.9"], &["4.6.0"]);
        check("!=4.1", &["4.0.9", "4.2.0"], &["4.1.0", "4.1.7"]);
        check(">1.2", &["1.3.0"], &["1.2.9"]);
        check("<=1.2", &["1.2.9"], &["1.3.0"]);
        check("<1.2", &["1.1.9"], &["1.2.0"]);
        check("1.2.3", &["1.2.3", "v1.2.3"], &["1.2.4"]);
        check("=v1.2.3", &["1.2.3"], &["1.2.4"]);
    }

    #[test]
    fn prereleases_only_when_asked() {
        check(">=1.2.3-beta.1", &["1.2.3-beta.2", "1.3.0", "1.2.3"], &["1.2.3-alpha"]);
        check("~1.2.3-0", &["1.2.3-rc.1", "1.2.4"], &["1.3.0-rc.1"]);
        check(">=1.0.0-0 <2.0.0-0", &["1.5.0-rc.1", "1.0.0"], &["2.0.0"]);
        let range = SemverRange::parse(">=1.0.0").expect("parses");
        let tags = ["1.0.0", "1.1.0-rc.1"];
        assert_eq!(range.best(tags).map(|(t, _)| t), Some("1.0.0"));
        let range = SemverRange::parse(">=1.0.0-0").expect("parses");
        assert_eq!(range.best(tags).map(|(t, _)| t), Some("1.1.0-rc.1"));
    }

    #[test]
    fn best_is_highest_and_independent_of_order() {
        let range = SemverRange::parse("1.x").expect("parses");
        let mut tags = ["1.0.0", "v1.10.0", "1.9.0", "1.10.0", "2.0.0", "not-a-version", "1.10.0+build.1"];
        let first = range.best(tags.iter().copied());
        tags.reverse();
        assert_eq!(first, range.best(tags.iter().copied()));
        assert_eq!(first.map(|(t, _)| t), Some("v1.10.0"));
        assert_eq!(range.best(["2.0.0"]), None);
    }

    #[test]
    fn errors() {
        for bad in ["", "||", ">=", "1.x.3", "~>a", "1.2.3.4", "1.0.0 -", "%1"] {
            assert!(SemverRange::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            SemverRange::parse(">=x.y").expect_err("bad").to_string(),
            r#"invalid semver range ">=x.y": "x.y" is not a version"#
        );
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("v1.2"), Some(Version::new(1, 2, 0)));
        assert_eq!(parse_version("1"), Some(Version::new(1, 0, 0)));
        assert_eq!(parse_version("1.2.3+meta"), Some(Version::new(1, 2, 3)));
        assert!(parse_version("release-1").is_none());
        assert!(parse_version("1..2").is_none());
    }
}

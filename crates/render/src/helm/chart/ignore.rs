//! `.helmignore`: Helm's ignore rules (`pkg/ignore`), with Go's `filepath.Match` patterns.

/// One parsed rule.
#[derive(Debug, Clone)]
struct Pattern {
    /// The pattern without `!`, a trailing `/` or a leading `/`.
    glob: String,
    /// How the path is matched.
    scope: Scope,
    negate: bool,
    must_dir: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The rule has a `/`: the whole path is matched.
    Path,
    /// No `/`: the last path component is matched.
    Base,
}

/// A set of `.helmignore` rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    patterns: Vec<Pattern>,
}

impl Rules {
    /// Parses a `.helmignore` file; the error names the rule.
    pub(crate) fn parse(text: &str) -> Result<Rules, String> {
        let mut rules = Rules::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for line in text.lines() {
            rules.add(line)?;
        }
        Ok(rules)
    }

    /// Adds Helm's default rule: hidden files under `templates/` are ignored.
    pub(crate) fn add_defaults(&mut self) {
        // The default rule is valid.
        let _ = self.add("templates/.?*");
    }

    fn add(&mut self, rule: &str) -> Result<(), String> {
        let rule = rule.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err("double-star (**) syntax is not supported".to_owned());
        }
        if go_match(rule, "abc").is_err() {
            return Err(format!("syntax error in pattern {rule:?}"));
        }
        let (negate, rule) = match rule.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (must_dir, rule) = match rule.strip_suffix('/') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (scope, glob) = if let Some(r) = rule.strip_prefix('/') {
            (Scope::Path, r)
        } else if rule.contains('/') {
            (Scope::Path, rule)
        } else {
            (Scope::Base, rule)
        };
        self.patterns.push(Pattern { glob: glob.to_owned(), scope, negate, must_dir });
        Ok(())
    }

    /// Whether `path` (relative to the chart root, `/`-separated) is ignored, as Helm's
    /// `Rules.Ignore` decides (including its handling of negated rules).
    pub(crate) fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for p in &self.patterns {
            let subject = match p.scope {
                Scope::Path => path,
                Scope::Base => path.rsplit('/').next().unwrap_or(path),
            };
            let matched = go_match(&p.glob, subject).unwrap_or(false);
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !matched {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if matched {
                return true;
            }
        }
        false
    }
}

/// Go's `filepath.Match` on `/`-separated names: `*` (any run without `/`), `?`, `[...]`
/// classes with ranges and `^`, `\` escapes. `Err` for a malformed pattern.
pub(crate) fn go_match(pattern: &str, name: &str) -> Result<bool, ()> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, ()> {
    let mut pi = 0;
    let mut ni = 0;
    // Backtracking point for the last `*`: (pattern index after it, name index).
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    pi += 1;
                    star = Some((pi, ni));
                    continue;
                }
                c => {
                    if ni < n.len() && n[ni] != '/' {
                        let (ok, len) = match_char(&p[pi..], n[ni])?;
                        if ok {
                            pi += len;
                            ni += 1;
                            continue;
                        }
                    } else if c == '[' || c == '\\' {
                        // Validate the rest of the pattern, as Go does before failing.
                        check_rest(&p[pi..])?;
                    } else if ni < n.len() && n[ni] == '/' && c == '/' {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
            }
        } else if ni == n.len() {
            return Ok(true);
        }
        // Mismatch: extend the last star by one character, unless that would cross a `/`.
        match star {
            Some((sp, sn)) if sn < n.len() && n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp;
                ni = sn + 1;
            }
            _ => {
                check_rest(&p[pi.min(p.len())..])?;
                return Ok(false);
            }
        }
    }
}

/// Checks the remaining pattern is well formed (Go reports `ErrBadPattern` even on a mismatch).
fn check_rest(p: &[char]) -> Result<(), ()> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '[' | '\\' => {
                let (_, len) = match_char(&p[i..], 'a')?;
                i += len;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Matches one pattern element (a literal, `?`, an escape or a class) against `c`; returns
/// whether it matched and how many pattern characters it used.
fn match_char(p: &[char], c: char) -> Result<(bool, usize), ()> {
    match p[0] {
        '?' => Ok((c != '/', 1)),
        '\\' => {
            let e = *p.get(1).ok_or(())?;
            Ok((e == c, 2))
        }
        '[' => {
            let mut i = 1;
            let negated = p.get(i) == Some(&'^');
            if negated {
                i += 1;
            }
            let mut matched = false;
            let mut first = true;
            loop {
                let ch = *p.get(i).ok_or(())?;
                if ch == ']' && !first {
                    i += 1;
                    break;
                }
                first = false;
                let (lo, used) = class_char(&p[i..])?;
                i += used;
                let mut hi = lo;
                if p.get(i) == Some(&'-') {
                    let (h, used) = class_char(&p[i + 1..])?;
                    hi = h;
                    i += 1 + used;
                }
                if lo <= c && c <= hi {
                    matched = true;
                }
            }
            Ok((matched != negated && c != '/', i))
        }
        lit => Ok((lit == c, 1)),
    }
}

fn class_char(p: &[char]) -> Result<(char, usize), ()> {
    match p.first() {
        None | Some('-' | ']') => Err(()),
        Some('\\') => p.get(1).map(|c| (*c, 2)).ok_or(()),
        Some(c) => Ok((*c, 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_match_semantics() {
        assert_eq!(go_match("*.txt", "a.txt"), Ok(true));
        assert_eq!(go_match("*.txt", "d/a.txt"), Ok(false));
        assert_eq!(go_match("d/*", "d/a"), Ok(true));
        assert_eq!(go_match("a?c", "abc"), Ok(true));
        assert_eq!(go_match("[a-c]x", "bx"), Ok(true));
        assert_eq!(go_match("[^a-c]x", "bx"), Ok(false));
        assert_eq!(go_match("\\*", "*"), Ok(true));
        assert_eq!(go_match("*", ""), Ok(true));
        assert_eq!(go_match("a*b*c", "axxbyyc"), Ok(true));
        assert!(go_match("[", "a").is_err());
        assert!(go_match("a[", "b").is_err());
    }

    #[test]
    fn helmignore_rules() {
        let mut rules = Rules::parse("# comment\n*.bak\n/secret.txt\ndocs/\n").expect("valid rules");
        rules.add_defaults();
        assert!(rules.ignore("x.bak", false));
        assert!(rules.ignore("sub/x.bak", false));
        assert!(rules.ignore("secret.txt", false));
        assert!(rules.ignore("docs", true));
        assert!(!rules.ignore("values.yaml", false));
        // Helm's negated rules ignore everything they do not match (its `Rules.Ignore`).
        let negated = Rules::parse("!keep.txt\n").expect("valid rules");
        assert!(negated.ignore("other.txt", false));
        assert!(!negated.ignore("keep.txt", false));
        assert!(rules.ignore("templates/.hidden", false));
        assert!(Rules::parse("a/**/b").is_err());
    }
}

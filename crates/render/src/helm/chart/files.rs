//! `.Files`: a chart's non-template files, as Helm's `engine.files`.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;

use crate::helm::funcs::to_yaml;
use crate::helm::template::{TemplateObject, Value};

/// The files a template can read: every file of the chart outside `templates/` (and outside
/// `charts/`), after `.helmignore`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Files {
    files: Arc<BTreeMap<String, Arc<[u8]>>>,
}

impl Files {
    pub(crate) fn new(files: BTreeMap<String, Arc<[u8]>>) -> Self {
        Files { files: Arc::new(files) }
    }

    fn get_bytes(&self, name: &str) -> &[u8] {
        self.files.get(name).map_or(&[], |d| d)
    }

    fn glob(&self, pattern: &str) -> Files {
        let re = glob_regex(pattern).unwrap_or_else(|| regex::Regex::new("^.*$").expect("the pattern is valid"));
        Files::new(self.files.iter().filter(|(n, _)| re.is_match(n)).map(|(n, d)| (n.clone(), Arc::clone(d))).collect())
    }

    /// `AsConfig`/`AsSecrets`: a YAML map from base names to contents.
    fn as_map(&self, encode: impl Fn(&[u8]) -> String) -> Value {
        let m: BTreeMap<String, Value> = self
            .files
            .iter()
            .map(|(k, v)| (k.rsplit('/').next().unwrap_or(k).to_owned(), Value::from(encode(v))))
            .collect();
        Value::from(to_yaml(&Value::map(m)))
    }

    fn lines(&self, name: &str) -> Value {
        let data = self.get_bytes(name);
        if data.is_empty() {
            return Value::list(Vec::new());
        }
        let text = String::from_utf8_lossy(data);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        Value::list(text.split('\n').map(Value::from).collect())
    }
}

fn bytes_value(data: &[u8]) -> Value {
    Value::list(data.iter().map(|b| Value::Int(i64::from(*b))).collect())
}

fn arg_str<'a>(method: &str, args: &'a [Value]) -> Result<&'a str, String> {
    match args {
        [Value::String(s)] => Ok(s),
        [other] => Err(format!("wrong type for value; expected string; got {}", other.type_name())),
        _ => Err(format!("wrong number of args for {method}: want 1 got {}", args.len())),
    }
}

impl TemplateObject for Files {
    fn type_name(&self) -> &'static str {
        "engine.files"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "AsConfig" => Some(self.as_map(|d| String::from_utf8_lossy(d).into_owned())),
            "AsSecrets" => Some(self.as_map(|d| base64::engine::general_purpose::STANDARD.encode(d))),
            _ => None,
        }
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let result = match name {
            "Get" => arg_str(name, args).map(|n| Value::from(String::from_utf8_lossy(self.get_bytes(n)).into_owned())),
            "GetBytes" => arg_str(name, args).map(|n| bytes_value(self.get_bytes(n))),
            "Glob" => arg_str(name, args).map(|p| Value::Object(Arc::new(self.glob(p)))),
            "Lines" => arg_str(name, args).map(|n| self.lines(n)),
            "AsConfig" | "AsSecrets" if args.is_empty() => return self.field(name).map(Ok),
            _ => return None,
        };
        Some(result)
    }

    fn display(&self) -> String {
        let mut out = String::from("map[");
        for (i, (k, v)) in self.files.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(k);
            out.push(':');
            out.push_str(&bytes_value(v).to_go_string());
        }
        out.push(']');
        out
    }

    fn entries(&self) -> Option<Vec<(String, Value)>> {
        Some(self.files.iter().map(|(k, v)| (k.clone(), bytes_value(v))).collect())
    }
}

/// A regex for a `gobwas/glob` pattern with `/` as the separator: `*` (no `/`), `**`
/// (anything), `?`, `[...]`/`[!...]`, `{a,b}`, `\` escapes. `None` when it does not compile,
/// and then Helm matches everything (`**`).
fn glob_regex(pattern: &str) -> Option<regex::Regex> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut re = String::from("^");
    let mut i = 0;
    let mut braces = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                re.push_str(".*");
                i += 1;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '\\' => {
                i += 1;
                re.push_str(&regex::escape(&chars.get(i)?.to_string()));
            }
            '[' => {
                let end = chars[i..].iter().position(|c| *c == ']')? + i;
                let mut class: String = chars[i + 1..end].iter().collect();
                if let Some(rest) = class.strip_prefix('!') {
                    class = format!("^{rest}");
                }
                re.push('[');
                re.push_str(&class.replace('[', "\\["));
                re.push(']');
                i = end;
            }
            '{' => {
                braces += 1;
                re.push_str("(?:");
            }
            '}' if braces > 0 => {
                braces -= 1;
                re.push(')');
            }
            ',' if braces > 0 => re.push('|'),
            other => re.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    if braces != 0 {
        return None;
    }
    re.push('$');
    regex::Regex::new(&re).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Files {
        Files::new(
            [("a.txt", "one\ntwo\n"), ("conf/x.yaml", "x: 1"), ("conf/sub/y.yaml", "y"), ("conf/z.json", "{}")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Arc::from(v.as_bytes())))
                .collect(),
        )
    }

    fn names(f: &Files) -> Vec<String> {
        f.files.keys().cloned().collect()
    }

    #[test]
    fn glob_like_gobwas() {
        assert_eq!(names(&files().glob("conf/*")), ["conf/x.yaml", "conf/z.json"]);
        assert_eq!(names(&files().glob("conf/**")), ["conf/sub/y.yaml", "conf/x.yaml", "conf/z.json"]);
        assert_eq!(names(&files().glob("conf/*.{yaml,json}")), ["conf/x.yaml", "conf/z.json"]);
        assert_eq!(names(&files().glob("[a]?txt")), ["a.txt"]);
        assert_eq!(names(&files().glob("{")).len(), 4);
    }

    #[test]
    fn methods() {
        let f = files();
        let call = |n: &str, a: &str| f.call(n, &[Value::from(a)]).expect("a method").expect("no error");
        assert_eq!(call("Get", "a.txt").to_go_string(), "one\ntwo\n");
        assert_eq!(call("Get", "missing").to_go_string(), "");
        assert_eq!(call("Lines", "a.txt").to_go_string(), "[one two]");
        assert_eq!(call("GetBytes", "conf/sub/y.yaml").to_go_string(), "[121]");
        let glob = call("Glob", "conf/*.yaml");
        let Value::Object(o) = glob else { panic!("Glob returns files") };
        assert_eq!(o.field("AsConfig").expect("AsConfig").to_go_string(), "x.yaml: 'x: 1'");
        assert_eq!(o.field("AsSecrets").expect("AsSecrets").to_go_string(), "x.yaml: eDogMQ==");
    }
}

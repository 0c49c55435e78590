//! Helm's `strvals`: the grammar of `--set`, `--set-string`, `--set-file` and `--set-json`.
//!
//! `a.b=1,c[0]=x,d={p,q},e\.f=y` sets `a.b` to the integer 1, the first item of list `c`, the
//! list `[p, q]` under `d` and the key `e.f`. Values of `--set` are typed as Helm types them
//! (`true`/`false` any case, `null`, integers without a leading zero, otherwise strings);
//! `--set-string` keeps strings; `--set-file` reads each value as a file name; `--set-json`
//! parses each value as JSON. Error messages are Helm's.
//!
//! ```
//! use gitops_render::helm::chart::strvals::{parse_into, Mode};
//!
//! let mut values = serde_json::Map::new();
//! parse_into(r"image.tag=1.2,args={a,b},hosts[1].name=x,dotted\.key=5", &mut values, &mut Mode::Typed)?;
//! assert_eq!(
//!     serde_json::Value::Object(values),
//!     serde_json::json!({"image": {"tag": "1.2"}, "args": ["a", "b"],
//!         "hosts": [null, {"name": "x"}], "dotted.key": 5})
//! );
//! # Ok::<(), String>(())
//! ```

use serde_json::{Map, Value as Json};

use crate::helm::template::{Value, sprintf};

/// The largest list index accepted (Helm's `MaxIndex`).
const MAX_INDEX: usize = 65536;
/// How deeply names may nest (Helm's `MaxNestedNameLevel`).
const MAX_NESTED_NAME_LEVEL: usize = 30;

/// How values are read.
#[non_exhaustive]
pub enum Mode<'a> {
    /// `--set`: typed values.
    Typed,
    /// `--set-string`: strings.
    String,
    /// `--set-json`: JSON values.
    Json,
    /// `--set-file`: the value is a file name; the function returns the file's contents.
    File(&'a mut dyn FnMut(&str) -> Result<String, String>),
}

/// Parses `text` into `dest`, as Helm's `strvals.ParseInto` (and its string, file and JSON
/// variants) do.
///
/// # Errors
///
/// Helm's message for a malformed expression (`key "a" has no value`, ...).
pub fn parse_into(text: &str, dest: &mut Map<String, Json>, mode: &mut Mode<'_>) -> Result<(), String> {
    let mut p = Parser { sc: text.chars().collect(), pos: 0, mode };
    loop {
        match p.key(dest, 0) {
            Ok(()) => {}
            Err(Stop::Eof) => return Ok(()),
            Err(Stop::NotList) => return Err("not a list".to_owned()),
            Err(Stop::Error(e)) => return Err(e),
        }
    }
}

/// Why parsing stopped: the end of the text (Go's `io.EOF`), Go's `ErrNotList`, or an error.
enum Stop {
    Eof,
    NotList,
    Error(String),
}

fn err<T>(message: String) -> Result<T, Stop> {
    Err(Stop::Error(message))
}

fn q(s: &str) -> String {
    sprintf("%q", &[Value::from(s)])
}

/// Go's type name of a value, as a failed type assertion prints it.
fn go_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "nil",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float64",
        Json::Number(_) => "int64",
        Json::String(_) => "string",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    }
}

struct Parser<'m, 'a> {
    sc: Vec<char>,
    pos: usize,
    mode: &'m mut Mode<'a>,
}

impl Parser<'_, '_> {
    fn read(&mut self) -> Option<char> {
        let c = self.sc.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unread(&mut self) {
        self.pos -= 1;
    }

    /// Reads up to a stop character (consumed and returned); `\` escapes the next character.
    /// `None` as the stop means the text ended.
    fn runes_until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut v = String::new();
        loop {
            match self.read() {
                None => return (v, None),
                Some(c) if stop.contains(&c) => return (v, Some(c)),
                Some('\\') => match self.read() {
                    None => return (v, None),
                    Some(next) => v.push(next),
                },
                Some(c) => v.push(c),
            }
        }
    }

    fn typed(&mut self, rs: &str) -> Result<Json, Stop> {
        match self.mode {
            Mode::String => Ok(Json::String(rs.to_owned())),
            Mode::File(reader) => reader(rs).map(Json::String).map_err(Stop::Error),
            Mode::Typed | Mode::Json => Ok(typed_val(rs)),
        }
    }

    fn key(&mut self, data: &mut Map<String, Json>, mut level: usize) -> Result<(), Stop> {
        let (k, last) = self.runes_until(&['=', '[', ',', '.']);
        let Some(last) = last else {
            if k.is_empty() {
                return Err(Stop::Eof);
            }
            return err(format!("key {} has no value", q(&k)));
        };
        match last {
            '[' => {
                let i = self.key_index().map_err(|e| match e {
                    Stop::Error(m) => Stop::Error(format!("error parsing index: {m}")),
                    other => other,
                })?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(Json::Array(l)) => l.clone(),
                    Some(other) => {
                        return err(format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                            go_type(other)
                        ));
                    }
                };
                let (list, result) = self.list_item(list, i, level);
                set(data, &k, Json::Array(list));
                result
            }
            '=' => {
                if matches!(self.mode, Mode::Json) {
                    if self.empty_val() {
                        set(data, &k, Json::Null);
                        return Ok(());
                    }
                    let v = self.json_value()?;
                    set(data, &k, v);
                    self.empty_val();
                    return Ok(());
                }
                match self.val_list() {
                    Ok(vl) => {
                        set(data, &k, Json::Array(vl));
                        Ok(())
                    }
                    Err(Stop::Eof) => {
                        set(data, &k, Json::String(String::new()));
                        Err(Stop::Eof)
                    }
                    Err(Stop::NotList) => {
                        let rs = self.val();
                        let v = self.typed(&rs)?;
                        set(data, &k, v);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            ',' => {
                set(data, &k, Json::String(String::new()));
                err(format!("key {} has no value (cannot end with ,)", q(&k)))
            }
            _ => {
                level += 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    ));
                }
                let mut inner = match data.get(&k) {
                    None => Map::new(),
                    Some(Json::Object(m)) => m.clone(),
                    Some(other) => {
                        return err(format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                            go_type(other)
                        ));
                    }
                };
                let result = self.key(&mut inner, level);
                if result.is_ok() && inner.is_empty() {
                    return err(format!("key map {} has no value", q(&k)));
                }
                if !inner.is_empty() {
                    set(data, &k, Json::Object(inner));
                }
                result
            }
        }
    }

    fn key_index(&mut self) -> Result<i64, Stop> {
        let (v, last) = self.runes_until(&[']']);
        if last.is_none() {
            return Err(Stop::Eof);
        }
        v.parse::<i64>().or_else(|_| err(format!("strconv.Atoi: parsing {}: invalid syntax", q(&v))))
    }

    /// Returns the list (possibly changed) and how parsing ended, as Go's `listItem`.
    fn list_item(&mut self, mut list: Vec<Json>, i: i64, level: usize) -> (Vec<Json>, Result<(), Stop>) {
        if i < 0 {
            return (list, err(format!("negative {i} index not allowed")));
        }
        let (k, last) = self.runes_until(&['[', '.', '=']);
        if !k.is_empty() {
            return (list, err(format!("unexpected data at end of array index: {}", q(&k))));
        }
        let Some(last) = last else { return (list, Err(Stop::Eof)) };
        match last {
            '=' => {
                if matches!(self.mode, Mode::Json) {
                    if self.empty_val() {
                        return set_index(list, i, Json::Null);
                    }
                    let v = match self.json_value() {
                        Ok(v) => v,
                        Err(e) => return (list, Err(e)),
                    };
                    let (list, r) = set_index(list, i, v);
                    if r.is_err() {
                        return (list, r);
                    }
                    self.empty_val();
                    return (list, Ok(()));
                }
                match self.val_list() {
                    Ok(vl) => set_index(list, i, Json::Array(vl)),
                    Err(Stop::Eof) => set_index(list, i, Json::String(String::new())),
                    Err(Stop::NotList) => {
                        let rs = self.val();
                        match self.typed(&rs) {
                            Ok(v) => set_index(list, i, v),
                            Err(e) => (list, Err(e)),
                        }
                    }
                    Err(e) => (list, Err(e)),
                }
            }
            '[' => {
                let next = match self.key_index() {
                    Ok(n) => n,
                    Err(Stop::Error(m)) => return (list, err(format!("error parsing index: {m}"))),
                    Err(e) => return (list, Err(e)),
                };
                let current = match usize::try_from(i).ok().and_then(|i| list.get(i)) {
                    None | Some(Json::Null) => Vec::new(),
                    Some(Json::Array(l)) => l.clone(),
                    Some(other) => {
                        let m = format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                            go_type(other)
                        );
                        return (list, err(m));
                    }
                };
                let (inner, r) = self.list_item(current, next, level);
                if r.is_err() {
                    return (list, r);
                }
                set_index(list, i, Json::Array(inner))
            }
            _ => {
                let mut inner = Map::new();
                if let Some(slot) = usize::try_from(i).ok().and_then(|i| list.get_mut(i)) {
                    match slot {
                        Json::Object(m) => inner.clone_from(m),
                        other => *other = Json::Object(Map::new()),
                    }
                }
                if let Err(e) = self.key(&mut inner, level) {
                    return (list, Err(e));
                }
                set_index(list, i, Json::Object(inner))
            }
        }
    }

    /// Skips whitespace; true at the end or after a comma (Go's `emptyVal`).
    fn empty_val(&mut self) -> bool {
        loop {
            match self.read() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => {}
                Some(_) => {
                    self.unread();
                    return false;
                }
            }
        }
    }

    /// Decodes one JSON value (Go's `json.Decoder`: numbers become `float64`).
    fn json_value(&mut self) -> Result<Json, Stop> {
        let rest: String = self.sc[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<Json>();
        match stream.next() {
            Some(Ok(v)) => {
                let used = rest[..stream.byte_offset()].chars().count();
                self.pos += used;
                let mut v = v;
                super::values::floats(&mut v);
                Ok(v)
            }
            Some(Err(e)) => err(e.to_string()),
            None => Err(Stop::Eof),
        }
    }

    fn val(&mut self) -> String {
        self.runes_until(&[',']).0
    }

    fn val_list(&mut self) -> Result<Vec<Json>, Stop> {
        match self.read() {
            None => return Err(Stop::Eof),
            Some('{') => {}
            Some(_) => {
                self.unread();
                return Err(Stop::NotList);
            }
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.runes_until(&[',', '}']);
            match last {
                None => return err("list must terminate with '}'".to_owned()),
                Some('}') => {
                    if let Some(c) = self.read()
                        && c != ','
                    {
                        self.unread();
                    }
                    list.push(self.typed(&rs)?);
                    return Ok(list);
                }
                Some(_) => list.push(self.typed(&rs)?),
            }
        }
    }
}

fn set(data: &mut Map<String, Json>, key: &str, val: Json) {
    if !key.is_empty() {
        data.insert(key.to_owned(), val);
    }
}

fn set_index(mut list: Vec<Json>, index: i64, val: Json) -> (Vec<Json>, Result<(), Stop>) {
    if index < 0 {
        return (list, err(format!("negative {index} index not allowed")));
    }
    let Ok(i) = usize::try_from(index) else { return (list, err(format!("index {index} is too large"))) };
    if i > MAX_INDEX {
        return (list, err(format!("index of {i} is greater than maximum supported index of {MAX_INDEX}")));
    }
    if list.len() <= i {
        list.resize(i + 1, Json::Null);
    }
    list[i] = val;
    (list, Ok(()))
}

/// Helm's `typedVal`: `true`/`false`/`null` in any case, `0`, integers without a leading zero
/// (as `int64`), otherwise the string.
fn typed_val(v: &str) -> Json {
    if v.eq_ignore_ascii_case("true") {
        return Json::Bool(true);
    }
    if v.eq_ignore_ascii_case("false") {
        return Json::Bool(false);
    }
    if v.eq_ignore_ascii_case("null") {
        return Json::Null;
    }
    if v == "0" {
        return Json::from(0_i64);
    }
    if !v.is_empty() && !v.starts_with('0') {
        // Go's ParseInt accepts a sign and underscores only with base 0; base 10 takes digits.
        let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(i) = v.parse::<i64>()
        {
            return Json::from(i);
        }
    }
    Json::String(v.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(text: &str, mode: &mut Mode<'_>) -> Result<Json, String> {
        let mut m = Map::new();
        parse_into(text, &mut m, mode).map(|()| Json::Object(m))
    }

    #[test]
    fn typed_values() {
        assert_eq!(
            parse("a=1,b=true,c=FALSE,d=null,e=012,f=-3,g=1.5,h=", &mut Mode::Typed),
            Ok(json!({"a": 1, "b": true, "c": false, "d": null, "e": "012", "f": -3, "g": "1.5", "h": ""}))
        );
        assert_eq!(parse("a=1,b=true", &mut Mode::String), Ok(json!({"a": "1", "b": "true"})));
    }

    #[test]
    fn lists_nesting_and_escapes() {
        assert_eq!(parse("a[2]=x", &mut Mode::Typed), Ok(json!({"a": [null, null, "x"]})));
        assert_eq!(parse("a[0][1]=x", &mut Mode::Typed), Ok(json!({"a": [[null, "x"]]})));
        assert_eq!(parse("a[0].b=1,a[0].c=2", &mut Mode::Typed), Ok(json!({"a": [{"b": 1, "c": 2}]})));
        assert_eq!(parse(r"a\.b=c\,d", &mut Mode::Typed), Ok(json!({"a.b": "c,d"})));
        assert_eq!(parse("a={x, y},b=2", &mut Mode::Typed), Ok(json!({"a": ["x", " y"], "b": 2})));
        assert_eq!(parse("a.b.c=1,a.b.d=2", &mut Mode::Typed), Ok(json!({"a": {"b": {"c": 1, "d": 2}}})));
    }

    #[test]
    fn json_and_files() {
        assert_eq!(
            parse(r#"a={"x":[1,2]},b="s",c[1]=true"#, &mut Mode::Json),
            Ok(json!({"a": {"x": [1.0, 2.0]}, "b": "s", "c": [null, true]}))
        );
        let mut reader = |p: &str| Ok::<_, String>(format!("content of {p}"));
        assert_eq!(parse("cfg=app.conf", &mut Mode::File(&mut reader)), Ok(json!({"cfg": "content of app.conf"})));
    }

    #[test]
    fn helm_errors() {
        assert_eq!(parse("a", &mut Mode::Typed), Err("key \"a\" has no value".to_owned()));
        assert_eq!(parse("a,b=1", &mut Mode::Typed), Err("key \"a\" has no value (cannot end with ,)".to_owned()));
        assert_eq!(parse("a.=1", &mut Mode::Typed), Err("key map \"a\" has no value".to_owned()));
        assert_eq!(
            parse("a[x]=1", &mut Mode::Typed),
            Err("error parsing index: strconv.Atoi: parsing \"x\": invalid syntax".to_owned())
        );
        assert_eq!(parse("a={x", &mut Mode::Typed), Err("list must terminate with '}'".to_owned()));
        assert_eq!(
            parse("a[70000]=1", &mut Mode::Typed),
            Err("index of 70000 is greater than maximum supported index of 65536".to_owned())
        );
    }
}

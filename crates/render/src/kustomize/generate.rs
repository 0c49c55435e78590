//! `configMapGenerator` and `secretGenerator`, and the name hash Kustomize appends to them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use gitops_core::Origin;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::resource::{Behavior, ResMap, Resource};
use super::types::{GeneratorArgs, GeneratorOptions};

/// Reads the files a generator names; paths are relative to the kustomization.
pub(crate) trait SourceFiles {
    fn read_file(&self, path: &str) -> Result<Vec<u8>, String>;
}

/// Local options win; global labels and annotations fill in; either side turns on the flags.
pub(crate) fn merge_options(local: Option<&GeneratorOptions>, global: Option<&GeneratorOptions>) -> GeneratorOptions {
    let mut merged = local.cloned().unwrap_or_default();
    if let Some(global) = global {
        for (slot, from) in [(&mut merged.labels, &global.labels), (&mut merged.annotations, &global.annotations)] {
            if let Some(from) = from {
                let map = slot.get_or_insert_with(BTreeMap::new);
                for (k, v) in from {
                    map.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        merged.disable_name_suffix_hash |= global.disable_name_suffix_hash;
        merged.immutable |= global.immutable;
    }
    merged
}

/// Base64 as Kustomize writes generated values: wrapped into 70-character lines, each followed
/// by a newline, once the encoding is longer than one line.
fn encode_base64(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    if encoded.len() / LINE == 0 {
        return encoded;
    }
    let mut out = String::with_capacity(encoded.len() + encoded.len() / LINE + 1);
    for chunk in encoded.as_bytes().chunks(LINE) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out
}

/// Strips one pair of matching surrounding quotes, as Kustomize does for literals.
fn remove_quotes(value: &str) -> &str {
    let bytes = value.as_bytes();
    if bytes.len() >= 2 && bytes[0] == bytes[bytes.len() - 1] && matches!(bytes[0], b'"' | b'\'') {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

/// `key=value` pairs from env files, then literals, then files, in that order.
fn load_pairs(args: &GeneratorArgs, files: &dyn SourceFiles) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut pairs = Vec::new();
    for path in args.envs.iter().flatten() {
        let content = files.read_file(path)?;
        let text = std::str::from_utf8(&content).map_err(|_| format!("env source file {path}: invalid utf8"))?;
        for (n, line) in text.lines().enumerate() {
            let line = if n == 0 { line.trim_start_matches('\u{feff}') } else { line };
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // kubectl's Kustomize validates no key names (its field validator accepts everything).
            let (key, value) = line.split_once('=').unwrap_or((line, ""));
            pairs.push((key.to_owned(), value.as_bytes().to_vec()));
        }
    }
    for literal in args.literals.iter().flatten() {
        match literal.split_once('=') {
            Some((key, value)) if !key.is_empty() => {
                pairs.push((key.to_owned(), remove_quotes(value).as_bytes().to_vec()));
            }
            _ => return Err(format!("invalid literal source {literal}, expected key=value")),
        }
    }
    for source in args.files.iter().flatten() {
        let (key, path) = match source.matches('=').count() {
            0 => (source.rsplit('/').next().unwrap_or(source).to_owned(), source.as_str()),
            1 if source.starts_with('=') => {
                return Err(format!("missing key name for file path {:?} in source {source:?}", &source[1..]));
            }
            1 if source.ends_with('=') => {
                return Err(format!(
                    "missing file path for key name {:?} in source {source:?}",
                    &source[..source.len() - 1]
                ));
            }
            1 => {
                let (k, p) = source.split_once('=').expect("one '=' was counted");
                (k.to_owned(), p)
            }
            _ => return Err(format!("source {source:?} key name or file path contains '='")),
        };
        pairs.push((key, files.read_file(path)?));
    }
    Ok(pairs)
}

/// Makes one generated ConfigMap (`secret == false`) or Secret.
pub(crate) fn generate(
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    secret: bool,
    files: &dyn SourceFiles,
    origin: Origin,
) -> Result<Resource, String> {
    let kind = if secret { "Secret" } else { "ConfigMap" };
    let name = args
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("a {} must have a name", kind.to_lowercase()))?;
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    if let Some(ns) = args.namespace.as_deref().filter(|ns| !ns.is_empty()) {
        metadata.insert("namespace".into(), json!(ns));
    }
    let mut map = Map::new();
    map.insert("apiVersion".into(), json!("v1"));
    map.insert("kind".into(), json!(kind));
    map.insert("metadata".into(), Value::Object(metadata));
    if secret {
        map.insert("type".into(), json!(args.kind.as_deref().filter(|t| !t.is_empty()).unwrap_or("Opaque")));
    }
    let mut data = Map::new();
    let mut binary = Map::new();
    let mut seen = std::collections::BTreeSet::new();
    for (key, value) in load_pairs(args, files)? {
        // Kustomize writes keys as plain YAML scalars and then reads them back; a key that reads
        // back as a number, boolean or null makes its JSON encoding fail, so it fails here too.
        if !matches!(gitops_core::yaml::resolve_key_kind(&key), gitops_core::yaml::KeyKind::String) {
            return Err(format!("the key {key:?} of {kind} {name} is not a string when read back as YAML"));
        }
        if !seen.insert(key.clone()) {
            return Err(format!("configmap {name} illegally repeats the key `{key}`"));
        }
        let encoded = encode_base64(&value);
        match (secret, String::from_utf8(value)) {
            (true, _) => {
                data.insert(key, Value::String(encoded));
            }
            (false, Ok(text)) => {
                data.insert(key, Value::String(text));
            }
            (false, Err(_)) => {
                binary.insert(key, Value::String(encoded));
            }
        }
    }
    // Kustomize always gives a generated Secret a `data` map, and a ConfigMap one only when it
    // has entries.
    if secret || !data.is_empty() {
        map.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        map.insert("binaryData".into(), Value::Object(binary));
    }
    let options = merge_options(args.options.as_ref(), global);
    let mut resource = Resource::new(map, origin);
    for (key, values) in [("labels", &options.labels), ("annotations", &options.annotations)] {
        if let Some(values) = values.as_ref().filter(|v| !v.is_empty()) {
            let entries: Map<String, Value> = values.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            resource.metadata_mut().insert(key.to_owned(), Value::Object(entries));
        }
    }
    if options.immutable {
        resource.map.insert("immutable".into(), json!(true));
    }
    // Kustomize reads an unknown behavior as `create`.
    resource.behavior = Some(match args.behavior.as_deref().unwrap_or("") {
        "merge" => Behavior::Merge,
        "replace" => Behavior::Replace,
        _ => Behavior::Create,
    });
    resource.needs_hash = !options.disable_name_suffix_hash;
    resource.generated_by = Some(if secret { "SecretGenerator" } else { "ConfigMapGenerator" });
    Ok(resource)
}

fn merge_string_map(into: &mut Map<String, Value>, key: &str, base: &Map<String, Value>) {
    let Some(base_values) = base.get(key).and_then(Value::as_object) else { return };
    let mut merged = base_values.clone();
    if let Some(Value::Object(own)) = into.get(key) {
        for (k, v) in own {
            merged.insert(k.clone(), v.clone());
        }
    }
    into.insert(key.to_owned(), Value::Object(merged));
}

/// Adds a generated resource to `resources`: a new one is appended; one with the id of an
/// existing resource replaces or merges into it, as its behavior says.
pub(crate) fn absorb(resources: &mut ResMap, mut generated: Resource) -> Result<(), String> {
    let id = generated.cur_id();
    let matches: Vec<usize> = resources
        .resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.cur_id().same_object(&id) || r.prev_ids.iter().any(|p| p.same_object(&id)))
        .map(|(i, _)| i)
        .collect();
    let behavior = generated.behavior.unwrap_or(Behavior::Create);
    match (matches.as_slice(), behavior) {
        ([], Behavior::Create) => resources.append(generated),
        ([], _) => Err(format!("id {id} does not exist; cannot merge or replace")),
        ([_], Behavior::Create) => {
            Err(format!("id {id} exists; can not use behavior: 'create', behavior must be merge or replace"))
        }
        ([index], _) => {
            let old = &resources.resources[*index];
            let old_meta = old.map.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
            {
                let meta = generated.metadata_mut();
                merge_string_map(meta, "labels", &old_meta);
                merge_string_map(meta, "annotations", &old_meta);
            }
            let (name, namespace) = (old.name().to_owned(), old.namespace().to_owned());
            generated.set_name(&name);
            if namespace.is_empty() {
                generated.metadata_mut().remove("namespace");
            } else {
                generated.set_namespace(&namespace);
            }
            if behavior == Behavior::Merge {
                merge_string_map(&mut generated.map, "data", &old.map);
                merge_string_map(&mut generated.map, "binaryData", &old.map);
            }
            generated.needs_hash = generated.needs_hash && old.needs_hash;
            generated.prev_ids.clone_from(&old.prev_ids);
            generated.prefixes.clone_from(&old.prefixes);
            generated.suffixes.clone_from(&old.suffixes);
            generated.origin = old.origin.clone();
            generated.generated_by = old.generated_by;
            resources.resources[*index] = generated;
            Ok(())
        }
        _ => Err(format!("found multiple objects that could accept merge of {id}")),
    }
}

/// Go's `encoding/json` output for the values the hash covers: sorted keys, no spaces, and the
/// HTML-safe escapes (`<`, `>`, `&`, U+2028, U+2029) Go applies by default.
fn go_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(key, out);
                out.push(':');
                go_json(&map[key], out);
            }
            out.push('}');
        }
        Value::String(s) => go_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\u{0}'..='\u{1f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The 10-character suffix Kustomize derives from a ConfigMap's or Secret's content.
pub(crate) fn content_hash(resource: &Resource) -> String {
    let map = &resource.map;
    let field = |key: &str| map.get(key).cloned().unwrap_or_else(|| Value::String(String::new()));
    let mut encoded = Map::new();
    encoded.insert("kind".into(), json!(resource.kind()));
    // Kustomize looks the name up with one path element `metadata/name`, which finds nothing,
    // so the name it hashes is always empty; reproduced for identical suffixes.
    encoded.insert("name".into(), json!(""));
    encoded.insert("data".into(), field("data"));
    if resource.kind() == "Secret" {
        encoded.insert("type".into(), field("type"));
        if let Some(v @ Value::Object(_)) = map.get("stringData") {
            encoded.insert("stringData".into(), v.clone());
        }
    } else if let Some(v @ Value::Object(_)) = map.get("binaryData") {
        encoded.insert("binaryData".into(), v.clone());
    }
    let mut text = String::new();
    go_json(&Value::Object(encoded), &mut text);
    let digest = Sha256::digest(text.as_bytes());
    let hex = digest.iter().take(5).fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFiles;
    impl SourceFiles for NoFiles {
        fn read_file(&self, path: &str) -> Result<Vec<u8>, String> {
            Err(format!("{path}: not found"))
        }
    }

    #[test]
    fn literal_quotes_and_hash() {
        let args = GeneratorArgs {
            name: Some("my-config".into()),
            literals: Some(vec!["a=\"x\"".into(), "b='y'".into(), "c=\"z'".into(), "url=http://a?b=c".into()]),
            ..GeneratorArgs::default()
        };
        let r = generate(&args, None, false, &NoFiles, Origin::generated("test")).expect("generated");
        assert_eq!(r.map["data"], json!({"a": "x", "b": "y", "c": "\"z'", "url": "http://a?b=c"}));
        assert_eq!(content_hash(&r).len(), 10);
        let mut text = String::new();
        go_json(&json!({"b": "<&>", "a": "\u{1}\n"}), &mut text);
        assert_eq!(text, r#"{"a":"\u0001\n","b":"\u003c\u0026\u003e"}"#);
    }
}

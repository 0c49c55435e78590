//! Masking Secret values before anything is shown or serialized.
//!
//! Every value under a Secret's `data` (and `stringData`) is replaced with a placeholder,
//! `<masked-N>`, numbered per object in a fixed order (live values by key, then the values after
//! the sync, then the last-applied ones): equal values get the same placeholder and different
//! values different ones, so a changed value still shows as changed without being revealed. The
//! numbering depends only on which values are equal, never on the values themselves (no hash
//! that could be brute-forced).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::diffset::FieldChange;
use crate::path::Segment;

/// The fields of a Secret whose values are secret.
const SECRET_FIELDS: &[&str] = &["data", "stringData"];

/// Placeholders for one object's secret values.
#[derive(Default)]
pub(crate) struct Masker {
    ids: HashMap<String, usize>,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Masker {
    /// Numbers the secret values of `object` (in key order) that have no placeholder yet.
    pub(crate) fn register(&mut self, object: Option<&Map<String, Value>>) {
        for field in SECRET_FIELDS {
            if let Some(Value::Object(map)) = object.and_then(|o| o.get(*field)) {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                for key in keys {
                    self.placeholder(&map[key.as_str()]);
                }
            }
        }
    }

    fn placeholder(&mut self, secret: &Value) -> Value {
        let next = self.ids.len() + 1;
        let id = *self.ids.entry(text(secret)).or_insert(next);
        Value::String(format!("<masked-{id}>"))
    }

    fn mask_values(&mut self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for item in map.values_mut() {
                    *item = self.placeholder(item);
                }
            }
            other => *other = self.placeholder(other),
        }
    }

    /// Masks the secret fields of a whole object.
    pub(crate) fn mask_object(&mut self, object: &mut Value) {
        for field in SECRET_FIELDS {
            if let Some(value) = object.get_mut(*field) {
                self.mask_values(value);
            }
        }
    }

    /// Masks the values of a change at or below a secret field.
    pub(crate) fn mask_change(&mut self, change: &mut FieldChange) {
        let segments = change.path.segments();
        let Some(Segment::Field(first)) = segments.first() else {
            if change.path.is_root() {
                for value in [&mut change.before, &mut change.after].into_iter().flatten() {
                    self.mask_object(value);
                }
            }
            return;
        };
        if !SECRET_FIELDS.contains(&first.as_str()) {
            return;
        }
        let whole_field = segments.len() == 1;
        for value in [&mut change.before, &mut change.after].into_iter().flatten() {
            if whole_field {
                self.mask_values(value);
            } else {
                *value = self.placeholder(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_share_a_placeholder() {
        let mut masker = Masker::default();
        let live = json!({"data": {"b": "c2VjcmV0", "a": "b3RoZXI="}});
        let after = json!({"data": {"a": "b3RoZXI=", "b": "bmV3"}});
        masker.register(live.as_object());
        masker.register(after.as_object());
        let (mut live, mut after) = (live, after);
        masker.mask_object(&mut live);
        masker.mask_object(&mut after);
        assert_eq!(live, json!({"data": {"b": "<masked-2>", "a": "<masked-1>"}}));
        assert_eq!(after, json!({"data": {"a": "<masked-1>", "b": "<masked-3>"}}));
    }
}

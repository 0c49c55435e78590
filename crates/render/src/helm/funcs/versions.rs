//! Sprig's `semver` and `semverCompare` (Masterminds/semver v3 rules, [`crate::helm::semver`]).

use std::sync::Arc;

use super::{add, want_str};
use crate::helm::semver::{Constraints, Version};
use crate::helm::template::{Arity, FuncError, FuncMap, TemplateObject, Value};

/// A `*semver.Version` in a template: fields `Major`, `Minor`, `Patch`, `Prerelease`,
/// `Metadata`, `Original`, and the methods `Compare`, `LessThan`, `GreaterThan`, `Equal`.
#[derive(Debug)]
struct SemverValue(Version);

fn other_version(args: &[Value]) -> Result<&Version, String> {
    match args {
        [Value::Object(o)] => o
            .as_any()
            .and_then(|a| a.downcast_ref::<SemverValue>())
            .map(|s| &s.0)
            .ok_or_else(|| format!("wrong type for value; expected *semver.Version; got {}", o.type_name())),
        [other] => Err(format!("wrong type for value; expected *semver.Version; got {}", other.type_name())),
        _ => Err(format!("wrong number of args: got {} want 1", args.len())),
    }
}

impl TemplateObject for SemverValue {
    fn type_name(&self) -> &'static str {
        "*semver.Version"
    }

    fn field(&self, name: &str) -> Option<Value> {
        let v = &self.0;
        let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
        Some(match name {
            "Major" => int(v.major),
            "Minor" => int(v.minor),
            "Patch" => int(v.patch),
            "Prerelease" => Value::from(v.pre.as_str()),
            "Metadata" => Value::from(v.metadata.as_str()),
            "Original" => Value::from(v.original.as_str()),
            "String" => Value::from(v.to_string()),
            _ => return None,
        })
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let ordering = || other_version(args).map(|o| self.0.compare(o));
        Some(match name {
            "Compare" => ordering().map(|o| Value::Int(o as i64)),
            "LessThan" => ordering().map(|o| Value::Bool(o.is_lt())),
            "GreaterThan" => ordering().map(|o| Value::Bool(o.is_gt())),
            "Equal" => ordering().map(|o| Value::Bool(o.is_eq())),
            _ => return None,
        })
    }

    fn display(&self) -> String {
        self.0.to_string()
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

pub(super) fn register(map: &mut FuncMap) {
    add(map, "semver", Arity::Exact(1), |_, a| {
        let v = Version::parse(want_str(&a[0])?).map_err(|e| FuncError::Message(e.to_string()))?;
        Ok(Value::Object(Arc::new(SemverValue(v))))
    });
    add(map, "semverCompare", Arity::Exact(2), |_, a| {
        let c = Constraints::parse(want_str(&a[0])?).map_err(|e| FuncError::Message(e.to_string()))?;
        let v = Version::parse(want_str(&a[1])?).map_err(|e| FuncError::Message(e.to_string()))?;
        Ok(Value::Bool(c.check(&v)))
    });
}

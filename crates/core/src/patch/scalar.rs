//! How the two reference implementations see values: Go's dynamic types (apimachinery compares
//! `reflect.TypeOf`), Go's `%v` text (apimachinery sorts by it), and YAML scalar text (kyaml
//! matches list keys by it).

use std::borrow::Cow;

use serde_json::Value;

use super::error::{PatchError, ValueKind};
use super::path::Path;

/// The Go type apimachinery decodes a JSON value into (`k8s.io/apimachinery/pkg/util/json`
/// turns integral numbers into `int64` and the rest into `float64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoType {
    Null,
    Bool,
    Int,
    Float,
    String,
    List,
    Map,
}

impl GoType {
    pub(crate) fn of(value: &Value) -> GoType {
        match value {
            Value::Null => GoType::Null,
            Value::Bool(_) => GoType::Bool,
            Value::Number(n) if n.is_i64() => GoType::Int,
            Value::Number(_) => GoType::Float,
            Value::String(_) => GoType::String,
            Value::Array(_) => GoType::List,
            Value::Object(_) => GoType::Map,
        }
    }
}

/// The common Go type of the items of `lists` (apimachinery's `sliceElementType`): `None` when
/// all are empty; an error when two items differ or an item is a list.
pub(crate) fn element_type(lists: &[&[Value]], path: &Path<'_>) -> Result<Option<GoType>, PatchError> {
    let mut first: Option<&Value> = None;
    for item in lists.iter().flat_map(|list| list.iter()) {
        match first {
            None => {
                if item.is_array() {
                    return Err(mixed(item, item, path));
                }
                first = Some(item);
            }
            Some(seen) if GoType::of(seen) != GoType::of(item) => return Err(mixed(seen, item, path)),
            Some(_) => {}
        }
    }
    Ok(first.map(GoType::of))
}

fn mixed(first: &Value, second: &Value, path: &Path<'_>) -> PatchError {
    PatchError::MixedList { path: path.render(), first: ValueKind::of(first), second: ValueKind::of(second) }
}

/// Go's `fmt.Sprintf("%v", value)` for the values apimachinery sorts: strings as they are,
/// numbers in decimal, `<nil>` for null. Maps and lists (never merge keys in practice) use JSON.
pub(crate) fn go_text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(text) => Cow::Borrowed(text),
        Value::Null => Cow::Borrowed("<nil>"),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        other => Cow::Owned(other.to_string()),
    }
}

/// The text kyaml compares list keys by (`yaml.Node.Value` after `IsNilOrEmpty`): a scalar's
/// text, and the empty string for null, maps and lists.
pub(crate) fn yaml_text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(text) => Cow::Borrowed(text),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        Value::Number(n) => Cow::Owned(n.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => Cow::Borrowed(""),
    }
}

/// The value a plain YAML scalar `text` reads as (what kyaml's `NewScalarRNode(text)` becomes
/// once printed and read back): an integer, a boolean, or a string.
pub(crate) fn plain_scalar(text: &str) -> Value {
    if let Ok(int) = text.parse::<i64>() {
        return Value::from(int);
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(text.to_string()),
    }
}

/// Sorts `items` the way Go's `sort.SliceStable` does with apimachinery's comparator "by
/// position in an order list; an item missing from the list sorts before anything":
/// consistent orders sort stably by position; otherwise Go's insertion sort is replayed.
pub(crate) fn go_stable_sort_by_position(items: &mut [Value], position: impl Fn(&Value) -> Option<usize>) {
    let positions: Vec<Option<usize>> = items.iter().map(&position).collect();
    if positions.iter().all(Option::is_some) {
        let mut order: Vec<(usize, usize)> =
            positions.iter().enumerate().map(|(at, pos)| (pos.unwrap_or_default(), at)).collect();
        if order.windows(2).all(|w| w[0].0 <= w[1].0) {
            return;
        }
        order.sort_by_key(|&(pos, _)| pos);
        let mut taken: Vec<Option<Value>> = items.iter_mut().map(|item| Some(std::mem::take(item))).collect();
        for (slot, (_, from)) in items.iter_mut().zip(order) {
            *slot = taken[from].take().expect("each position is taken once");
        }
        return;
    }
    // Go's insertionSort(data, a, b): for i in a+1..b, for j = i; j > a && less(j, j-1); j--.
    let less = |a: Option<usize>, b: Option<usize>| match (a, b) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    };
    let mut positions = positions;
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(positions[j], positions[j - 1]) {
            items.swap(j, j - 1);
            positions.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// apimachinery's `mergeSortedSlice`: interleaves `server_only` (sorted by the original order)
/// into `patch_items` (sorted by the patch order). A server-only item goes first only when
/// both items were in the original and it came earlier there.
pub(crate) fn merge_sorted(
    server_only: Vec<Value>,
    patch_items: Vec<Value>,
    original_position: impl Fn(&Value) -> Option<usize>,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(server_only.len() + patch_items.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = patch_items.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => {
                matches!((original_position(l), original_position(r)), (Some(l), Some(r)) if l < r)
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_types_tell_integers_from_floats() {
        assert_eq!(GoType::of(&json!(1)), GoType::Int);
        assert_eq!(GoType::of(&json!(1.5)), GoType::Float);
        assert_eq!(GoType::of(&json!(u64::MAX)), GoType::Float);
        let list = [json!("a"), json!(1)];
        assert!(element_type(&[&list], &Path::ROOT).is_err());
        assert_eq!(element_type(&[&[], &[json!({})]], &Path::ROOT), Ok(Some(GoType::Map)));
    }

    #[test]
    fn texts_follow_go_and_yaml() {
        assert_eq!(go_text(&json!(null)), "<nil>");
        assert_eq!(yaml_text(&json!(null)), "");
        assert_eq!(yaml_text(&json!(80)), "80");
        assert_eq!(plain_scalar("80"), json!(80));
        assert_eq!(plain_scalar("TCP"), json!("TCP"));
    }

    #[test]
    fn merge_sorted_places_new_items_after_their_patch_neighbours() {
        // original [a, b, c], patch [b, d]: apimachinery gives [a, b, d, c].
        let original = ["a", "b", "c"];
        let position = |v: &Value| original.iter().position(|o| Some(*o) == v.as_str());
        let merged = merge_sorted(vec![json!("a"), json!("c")], vec![json!("b"), json!("d")], position);
        assert_eq!(merged, [json!("a"), json!("b"), json!("d"), json!("c")]);
    }

    #[test]
    fn inconsistent_orders_replay_go_insertion_sort() {
        let mut items = vec![json!("x"), json!("a"), json!("new")];
        go_stable_sort_by_position(&mut items, |v| match v.as_str() {
            Some("a") => Some(0),
            Some("x") => Some(1),
            _ => None,
        });
        assert_eq!(items, [json!("new"), json!("a"), json!("x")]);
    }
}

//! OpenAPI v3 component schemas from the schema table, so that `kubectl explain` can walk a
//! kind's fields. Named built-in types become shared `components.schemas` entries referenced by
//! `$ref`; CRD kinds, whose schemas are anonymous, are inlined. The table keeps shapes and types,
//! not descriptions, so `explain` shows fields and types without prose.

use gitops_core::Gvk;
use gitops_core::schema::{Node, ScalarType, Schema, Shape};
use serde_json::{Map, Value, json};

use crate::registry::Resource;

/// How deep anonymous (CRD) schemas are inlined; deeper positions are left open.
const MAX_INLINE_DEPTH: usize = 32;

/// `components.schemas` for `resources`: one root per kind, tagged with its group-version-kind,
/// and every named type they reach.
pub(crate) fn component_schemas<'r>(schema: &Schema, resources: impl Iterator<Item = &'r Resource>) -> Value {
    let mut builder = Builder { schemas: Map::new() };
    for resource in resources {
        let gvk = Gvk::new(resource.group.as_str(), resource.version.as_str(), resource.kind.as_str());
        let Some(root) = schema.root(&gvk) else { continue };
        let name = root.type_name().map_or_else(|| root_name(resource), str::to_owned);
        let mut body = builder.body(root, 0);
        body["x-kubernetes-group-version-kind"] =
            json!([{"group": resource.group, "kind": resource.kind, "version": resource.version}]);
        builder.schemas.insert(name, body);
    }
    Value::Object(builder.schemas)
}

/// The name a CRD kind's root gets: its group reversed, then version and kind
/// (`com.example.v1.Widget`), as the API server names them.
fn root_name(resource: &Resource) -> String {
    let group: Vec<&str> = resource.group.split('.').rev().collect();
    format!("{}.{}.{}", group.join("."), resource.version, resource.kind)
}

struct Builder {
    schemas: Map<String, Value>,
}

impl Builder {
    /// A reference to a named type (built once), or the inlined schema of an anonymous one.
    fn schema(&mut self, node: Node<'_>, depth: usize) -> Value {
        match node.type_name() {
            Some(name) => {
                if !self.schemas.contains_key(name) {
                    // A placeholder first, so that recursive types terminate.
                    self.schemas.insert(name.to_owned(), json!({}));
                    let body = self.body(node, depth);
                    self.schemas.insert(name.to_owned(), body);
                }
                json!({"$ref": format!("#/components/schemas/{name}")})
            }
            None if depth > MAX_INLINE_DEPTH => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
            None => self.body(node, depth),
        }
    }

    fn body(&mut self, node: Node<'_>, depth: usize) -> Value {
        match node.shape() {
            Shape::Struct => {
                let mut properties = Map::new();
                for (name, child) in node.fields() {
                    properties.insert(name.to_owned(), self.schema(child, depth + 1));
                }
                json!({"type": "object", "properties": properties})
            }
            Shape::Map => match node.field("*") {
                Some(value) => json!({"type": "object", "additionalProperties": self.schema(value, depth + 1)}),
                None => json!({"type": "object"}),
            },
            Shape::List => match node.items() {
                Some(items) => json!({"type": "array", "items": self.schema(items, depth + 1)}),
                None => json!({"type": "array"}),
            },
            Shape::Scalar(scalar) => match scalar {
                ScalarType::String | ScalarType::Quantity => json!({"type": "string"}),
                ScalarType::Integer => json!({"type": "integer", "format": "int64"}),
                ScalarType::Number => json!({"type": "number"}),
                ScalarType::Boolean => json!({"type": "boolean"}),
                ScalarType::IntOrString => json!({"x-kubernetes-int-or-string": true}),
                _ => json!({}),
            },
            _ => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn deployments_reference_shared_types() {
        let registry = Registry::builtin();
        let schemas = component_schemas(Schema::builtin(), registry.in_group_version("apps", "v1"));
        let deployment = &schemas["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(deployment["x-kubernetes-group-version-kind"][0]["kind"], "Deployment");
        assert_eq!(deployment["properties"]["spec"]["$ref"], "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec");
        let spec = &schemas["io.k8s.api.apps.v1.DeploymentSpec"];
        assert_eq!(spec["properties"]["replicas"], json!({"type": "integer", "format": "int64"}));
        assert!(schemas.get("io.k8s.api.core.v1.Container").is_some());
    }
}

//! The schema table: built-in kinds checked against what the Kubernetes 1.37 OpenAPI data says,
//! CRD overlays, and deduced nodes for unknown kinds.

use gitops_core::schema::{KindInfo, ListType, MapType, Node, ScalarType, Schema, SchemaError, Scope, Shape};
use gitops_core::{Gvk, Object, parse_manifests, yaml::ReadOptions};
use serde_json::json;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

fn root(group: &str, version: &str, kind: &str) -> Node<'static> {
    Schema::builtin()
        .root(&Gvk::new(group, version, kind))
        .unwrap_or_else(|| panic!("{group}/{version}/{kind} is built in"))
}

/// Follows a dotted path; `[]` steps into list items.
fn walk<'s>(node: Node<'s>, path: &str) -> Node<'s> {
    path.split('.').fold(node, |node, step| {
        let next = if step == "[]" { node.items() } else { node.field(step) };
        next.unwrap_or_else(|| panic!("`{step}` of `{path}` not found in {node:?}"))
    })
}

fn pod_spec() -> Node<'static> {
    walk(root("apps", "v1", "Deployment"), "spec.template.spec")
}

#[test]
fn deployment_containers_merge_by_name() {
    let containers = walk(pod_spec(), "containers");
    assert_eq!(containers.shape(), Shape::List);
    assert_eq!(containers.list_type(), ListType::Map);
    assert_eq!(containers.list_map_keys(), ["name"]);
    assert_eq!(containers.patch_merge_key(), Some("name"));
    let strategy = containers.patch_strategy();
    assert!(strategy.merge && !strategy.retain_keys && !strategy.replace);

    let container = containers.items().expect("a list");
    assert_eq!(container.shape(), Shape::Struct);
    assert_eq!(container.type_name(), Some("io.k8s.api.core.v1.Container"));
    assert_eq!(walk(container, "image").scalar(), Some(ScalarType::String));
    assert_eq!(container.field("undeclared").map(|n| n.shape()), None);
    // `args` declares no strategy: atomic for both server-side apply and strategic merge.
    let args = walk(container, "args");
    assert_eq!(args.list_type(), ListType::Atomic);
    assert!(!args.patch_strategy().is_declared());
    assert_eq!(walk(args, "[]").scalar(), Some(ScalarType::String));
}

#[test]
fn container_ports_have_different_apply_and_patch_keys() {
    let ports = walk(pod_spec(), "containers.[].ports");
    assert_eq!(ports.list_type(), ListType::Map);
    assert_eq!(ports.list_map_keys(), ["containerPort", "protocol"]);
    assert_eq!(ports.patch_merge_key(), Some("containerPort"));
    assert!(ports.patch_strategy().merge);
    assert_eq!(walk(ports, "[].containerPort").scalar(), Some(ScalarType::Integer));
}

#[test]
fn pod_spec_lists_and_maps() {
    let volumes = walk(pod_spec(), "volumes");
    let strategy = volumes.patch_strategy();
    assert!(strategy.merge && strategy.retain_keys && !strategy.replace);
    assert_eq!(volumes.patch_merge_key(), Some("name"));
    assert_eq!(volumes.list_type(), ListType::Map);

    let tolerations = walk(pod_spec(), "tolerations");
    assert_eq!(tolerations.list_type(), ListType::Atomic);
    assert_eq!(tolerations.list_map_keys(), [] as [String; 0]);
    assert_eq!(tolerations.patch_merge_key(), None);

    let node_selector = walk(pod_spec(), "nodeSelector");
    assert_eq!(node_selector.shape(), Shape::Map);
    assert_eq!(node_selector.map_type(), MapType::Atomic);
    assert_eq!(node_selector.field("kubernetes.io/os").and_then(|n| n.scalar()), Some(ScalarType::String));

    let limits = walk(pod_spec(), "containers.[].resources.limits");
    assert_eq!(limits.shape(), Shape::Map);
    assert_eq!(walk(limits, "memory").shape(), Shape::Scalar(ScalarType::Quantity));
}

#[test]
fn metadata_is_object_meta() {
    let meta = walk(root("apps", "v1", "Deployment"), "metadata");
    assert_eq!(meta.type_name(), Some(OBJECT_META));
    let labels = walk(meta, "labels");
    assert_eq!(labels.shape(), Shape::Map);
    assert_eq!(labels.map_type(), MapType::Granular);
    assert_eq!(walk(labels, "app").scalar(), Some(ScalarType::String));

    let owners = walk(meta, "ownerReferences");
    assert_eq!(owners.list_type(), ListType::Map);
    assert_eq!(owners.list_map_keys(), ["uid"]);
    assert_eq!(owners.patch_merge_key(), Some("uid"));
    assert_eq!(walk(owners, "[]").map_type(), MapType::Atomic, "OwnerReference is atomic");

    // The data: `x-kubernetes-list-type: set` and `x-kubernetes-patch-strategy: merge`.
    let finalizers = walk(meta, "finalizers");
    assert_eq!(finalizers.list_type(), ListType::Set);
    assert!(finalizers.patch_strategy().merge);
    assert_eq!(finalizers.patch_merge_key(), None);

    assert_eq!(walk(meta, "managedFields").list_type(), ListType::Atomic);
    assert_eq!(walk(meta, "creationTimestamp").scalar(), Some(ScalarType::String));
    // FieldsV1 is an object without declared fields: deduced.
    assert!(walk(meta, "managedFields.[].fieldsV1.f:spec").is_deduced());
}

#[test]
fn selectors_and_property_overrides() {
    let selector = walk(root("apps", "v1", "Deployment"), "spec.selector");
    assert_eq!(selector.shape(), Shape::Struct);
    assert_eq!(selector.type_name(), Some("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"));
    assert_eq!(selector.map_type(), MapType::Atomic, "LabelSelector declares map type atomic");
    assert_eq!(walk(selector, "matchLabels").shape(), Shape::Map);

    // A property that refers to a definition carries its own strategy and map type.
    let strategy = walk(root("apps", "v1", "Deployment"), "spec.strategy");
    assert_eq!(strategy.type_name(), Some("io.k8s.api.apps.v1.DeploymentStrategy"));
    assert!(strategy.patch_strategy().retain_keys && !strategy.patch_strategy().merge);
    assert!(walk(root("policy", "v1", "PodDisruptionBudget"), "spec.selector").patch_strategy().replace);
    let claim_ref = walk(root("", "v1", "PersistentVolume"), "spec.claimRef");
    assert_eq!(claim_ref.type_name(), Some("io.k8s.api.core.v1.ObjectReference"));
    assert_eq!(claim_ref.map_type(), MapType::Granular, "the property overrides the definition");
    let secret_ref = walk(root("", "v1", "ServiceAccount"), "secrets.[]");
    assert_eq!(secret_ref.type_name(), Some("io.k8s.api.core.v1.ObjectReference"));
    assert_eq!(secret_ref.map_type(), MapType::Atomic, "the definition's own map type");
}

#[test]
fn service_ports() {
    let ports = walk(root("", "v1", "Service"), "spec.ports");
    assert_eq!(ports.list_map_keys(), ["port", "protocol"]);
    assert_eq!(ports.patch_merge_key(), Some("port"));
    let target_port = walk(ports, "[].targetPort");
    assert_eq!(target_port.shape(), Shape::Scalar(ScalarType::IntOrString));
    assert_eq!(walk(root("", "v1", "Service"), "spec.selector").map_type(), MapType::Atomic);
}

#[test]
fn recursive_definitions_resolve() {
    let props = walk(
        root("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        "spec.versions.[].schema.openAPIV3Schema.properties",
    );
    let nested = walk(props, "spec.properties.replicas.properties.x");
    let name = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";
    assert_eq!(nested.type_name(), Some(name));
    assert!(walk(nested, "default.anything").is_deduced(), "JSON values are deduced");
}

#[test]
fn every_builtin_root_has_type_meta_and_object_meta() {
    let schema = Schema::builtin();
    let kinds = schema.kinds();
    assert!(kinds.len() >= 100, "{} kinds", kinds.len());
    assert!(kinds.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    for KindInfo { gvk, scope, .. } in &kinds {
        let node = schema.root(gvk).expect("listed kinds resolve");
        assert_eq!(walk(node, "apiVersion").scalar(), Some(ScalarType::String), "{gvk}");
        assert_eq!(walk(node, "kind").scalar(), Some(ScalarType::String), "{gvk}");
        assert_eq!(walk(node, "metadata").type_name(), Some(OBJECT_META), "{gvk}");
        assert_eq!(schema.scope(&gvk.group, &gvk.kind), Some(*scope));
    }
    let deployment = KindInfo::new(Gvk::new("apps", "v1", "Deployment"), Scope::Namespaced);
    assert!(kinds.contains(&deployment));
    let names: Vec<&str> = kinds.iter().map(|info| info.gvk.kind.as_str()).collect();
    for absent in ["DeploymentList", "Scale", "Status", "APIGroup", "DeleteOptions", "WatchEvent"] {
        assert!(!names.contains(&absent), "{absent} is not a resource kind");
    }
}

#[test]
fn scopes() {
    let schema = Schema::new();
    for (group, kind) in [
        ("", "Namespace"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("", "PersistentVolume"),
        ("storage.k8s.io", "StorageClass"),
    ] {
        assert_eq!(schema.scope(group, kind), Some(Scope::Cluster), "{group}/{kind}");
    }
    for (group, kind) in [("apps", "Deployment"), ("", "ConfigMap"), ("rbac.authorization.k8s.io", "Role")] {
        assert_eq!(schema.scope(group, kind), Some(Scope::Namespaced), "{group}/{kind}");
    }
    assert_eq!(schema.scope("example.com", "Widget"), None);
    assert_eq!(schema.scope("", "Deployment"), None, "the group matters");
}

#[test]
fn unknown_versions_fall_back_to_the_preferred_one() {
    let v1beta1 = Schema::builtin().root(&Gvk::new("apps", "v1beta1", "Deployment")).expect("same group and kind");
    assert_eq!(v1beta1.type_name(), Some("io.k8s.api.apps.v1.Deployment"));
    // An exact version wins over the preferred one.
    let beta = root("resource.k8s.io", "v1beta1", "DeviceClass");
    assert_eq!(beta.type_name(), Some("io.k8s.api.resource.v1beta1.DeviceClass"));
    let later = root("resource.k8s.io", "v9", "DeviceClass");
    assert_eq!(later.type_name(), Some("io.k8s.api.resource.v1.DeviceClass"));
    assert!(Schema::builtin().root(&Gvk::new("example.com", "v1", "Deployment")).is_none());
}

#[test]
fn unknown_kinds_are_deduced() {
    let schema = Schema::new();
    let gvk = Gvk::new("example.com", "v1", "Widget");
    assert!(schema.root(&gvk).is_none());
    let node = schema.root_or_deduced(&gvk);
    assert!(node.is_deduced());
    assert_eq!(node.shape(), Shape::Deduced);
    let items = node.field("x").and_then(|x| x.items()).expect("deduced all the way down");
    assert!(items.is_deduced());
    assert_eq!(node.list_type(), ListType::Atomic);
    assert_eq!(node.field("x").map(|x| x.list_type()), Some(ListType::Atomic));
    assert_eq!(items.map_type(), MapType::Granular);
    assert_eq!(items.scalar(), None);
    assert!(!items.patch_strategy().is_declared());
    assert!(node.preserves_unknown_fields());
}

const CERTIFICATE_CRD: &str = r"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: certificates.cert.example.io
spec:
  group: cert.example.io
  scope: Namespaced
  names:
    kind: Certificate
    listKind: CertificateList
    plural: certificates
    singular: certificate
  versions:
  - name: v1alpha1
    served: false
    storage: false
    schema:
      openAPIV3Schema:
        type: object
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
    schema:
      openAPIV3Schema:
        description: A Certificate resource.
        type: object
        required: [spec]
        properties:
          apiVersion:
            type: string
          kind:
            type: string
          metadata:
            type: object
          spec:
            type: object
            required: [issuerRef, secretName]
            properties:
              dnsNames:
                type: array
                items:
                  type: string
                x-kubernetes-list-type: set
              duration:
                type: string
              secretName:
                type: string
              issuerRef:
                type: object
                x-kubernetes-map-type: atomic
                properties:
                  group: {type: string}
                  kind: {type: string}
                  name: {type: string}
              keystores:
                type: object
                x-kubernetes-preserve-unknown-fields: true
              secretTemplate:
                type: object
                properties:
                  annotations:
                    type: object
                    additionalProperties:
                      type: string
                  labels:
                    type: object
                    additionalProperties: true
              otherNames:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [oid, utf8Value]
                items:
                  type: object
                  properties:
                    oid: {type: string}
                    utf8Value: {type: string}
              port:
                x-kubernetes-int-or-string: true
                anyOf:
                - type: integer
                - type: string
              privateKey:
                type: object
                properties:
                  size: {type: integer}
                oneOf:
                - properties:
                    algorithm: {type: string, enum: [RSA, ECDSA]}
              template:
                type: object
                x-kubernetes-embedded-resource: true
                x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            properties:
              conditions:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [type]
                items:
                  type: object
                  properties:
                    type: {type: string}
                    status: {type: string}
                    observedGeneration: {type: integer, format: int64}
              revision:
                type: number
";

fn object(yaml: &str) -> Object {
    let mut manifests = parse_manifests(yaml, "crd.yaml", &ReadOptions::default()).expect("valid YAML");
    assert_eq!(manifests.len(), 1);
    manifests.remove(0).object
}

#[test]
fn crd_kinds_resolve() {
    let mut schema = Schema::new();
    schema.add_crd(&object(CERTIFICATE_CRD)).expect("valid CRD");
    assert_eq!(schema.scope("cert.example.io", "Certificate"), Some(Scope::Namespaced));
    let cert = schema.root(&Gvk::new("cert.example.io", "v1", "Certificate")).expect("served");

    // The schema's `metadata: {type: object}` still means ObjectMeta.
    assert_eq!(walk(cert, "metadata").type_name(), Some(OBJECT_META));
    assert_eq!(walk(cert, "metadata.labels").shape(), Shape::Map);
    assert_eq!(walk(cert, "metadata.ownerReferences").list_map_keys(), ["uid"]);
    assert_eq!(walk(cert, "apiVersion").scalar(), Some(ScalarType::String));
    assert!(cert.field("undeclared").is_none());

    let spec = walk(cert, "spec");
    assert_eq!(spec.shape(), Shape::Struct);
    assert_eq!(spec.type_name(), None);
    let dns_names = walk(spec, "dnsNames");
    assert_eq!(dns_names.list_type(), ListType::Set);
    assert_eq!(walk(dns_names, "[]").scalar(), Some(ScalarType::String));
    assert_eq!(walk(spec, "issuerRef").map_type(), MapType::Atomic);
    assert_eq!(walk(spec, "issuerRef.name").scalar(), Some(ScalarType::String));
    assert_eq!(walk(spec, "port").scalar(), Some(ScalarType::IntOrString));

    let keystores = walk(spec, "keystores");
    assert!(keystores.is_deduced(), "no properties, unknown fields kept");
    assert!(walk(keystores, "jks.passwordSecretRef").is_deduced());

    assert_eq!(walk(spec, "secretTemplate.annotations.a").scalar(), Some(ScalarType::String));
    assert!(walk(spec, "secretTemplate.labels.a").is_deduced());

    let other_names = walk(spec, "otherNames");
    assert_eq!(other_names.list_type(), ListType::Map);
    assert_eq!(other_names.list_map_keys(), ["oid", "utf8Value"]);
    assert_eq!(other_names.patch_merge_key(), None, "CRDs have no strategic merge keys");
    assert_eq!(walk(other_names, "[].oid").scalar(), Some(ScalarType::String));

    // `oneOf` branches contribute their properties.
    assert_eq!(walk(spec, "privateKey.algorithm").scalar(), Some(ScalarType::String));
    assert_eq!(walk(spec, "privateKey.size").scalar(), Some(ScalarType::Integer));

    // Embedded resources get type and object metadata; unknown fields are deduced.
    let template = walk(spec, "template");
    assert_eq!(template.shape(), Shape::Struct);
    assert_eq!(walk(template, "metadata").type_name(), Some(OBJECT_META));
    assert!(walk(template, "spec.replicas").is_deduced());

    let conditions = walk(cert, "status.conditions");
    assert_eq!(conditions.list_map_keys(), ["type"]);
    assert_eq!(walk(conditions, "[].observedGeneration").scalar(), Some(ScalarType::Integer));
    assert_eq!(walk(cert, "status.revision").scalar(), Some(ScalarType::Number));

    // Only served versions are listed; an unserved version falls back to a served one.
    let listed: Vec<KindInfo> = schema.kinds().into_iter().filter(|info| info.gvk.group == "cert.example.io").collect();
    let v1 = KindInfo::new(Gvk::new("cert.example.io", "v1", "Certificate"), Scope::Namespaced);
    assert_eq!(listed, [v1]);
    let alpha = schema.root(&Gvk::new("cert.example.io", "v1alpha1", "Certificate")).expect("falls back");
    assert!(alpha.field("spec").is_some_and(|spec| spec.field("dnsNames").is_some()));
    assert!(schema.kinds().len() > Schema::builtin().kinds().len());
}

#[test]
fn crds_replace_and_remove() {
    let mut schema = Schema::new();
    schema.add_crd(&object(CERTIFICATE_CRD)).expect("valid CRD");
    let snapshot = schema.clone();
    let cluster = CERTIFICATE_CRD.replace("scope: Namespaced", "scope: Cluster");
    schema.add_crd(&object(&cluster)).expect("valid CRD");
    assert_eq!(schema.scope("cert.example.io", "Certificate"), Some(Scope::Cluster), "replaced");
    assert_eq!(snapshot.scope("cert.example.io", "Certificate"), Some(Scope::Namespaced), "clones are independent");

    schema.remove_crd("cert.example.io", "Certificate");
    assert_eq!(schema.scope("cert.example.io", "Certificate"), None);
    assert!(schema.root(&Gvk::new("cert.example.io", "v1", "Certificate")).is_none());
    assert_eq!(schema.kinds(), Schema::builtin().kinds());
    schema.remove_crd("apps", "Deployment");
    assert_eq!(schema.scope("apps", "Deployment"), Some(Scope::Namespaced), "built-in kinds stay");
}

#[test]
fn crds_without_schema_or_object_root_are_preserving() {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "anythings.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Cluster",
            "names": {"kind": "Anything", "plural": "anythings"},
            "versions": [
                {"name": "v1", "served": true, "storage": true,
                 "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
                {"name": "v2", "served": true, "storage": false}
            ]
        }
    });
    let mut schema = Schema::new();
    schema.add_crd(&Object::from_value(crd).expect("an object")).expect("valid CRD");
    for version in ["v1", "v2"] {
        let root = schema.root(&Gvk::new("example.com", version, "Anything")).expect("served");
        assert_eq!(root.shape(), Shape::Struct);
        assert!(walk(root, "spec.anything.[]").is_deduced());
        assert_eq!(walk(root, "metadata").type_name(), Some(OBJECT_META));
    }
}

fn add_error(yaml: &str) -> SchemaError {
    let mut schema = Schema::new();
    let error = schema.add_crd(&object(yaml)).expect_err("invalid");
    assert_eq!(schema.kinds(), Schema::builtin().kinds(), "nothing added");
    error
}

#[test]
fn invalid_crds_name_the_path() {
    let bad_type =
        CERTIFICATE_CRD.replace("duration:\n                type: string", "duration:\n                type: duration");
    let error = add_error(&bad_type);
    assert_eq!(error.crd(), "certificates.cert.example.io");
    assert_eq!(error.path(), Some("spec.versions[1].schema.openAPIV3Schema.properties.spec.properties.duration.type"));
    assert!(error.to_string().contains("must be one of object, array"), "{error}");

    let bad_list_type = CERTIFICATE_CRD.replace("x-kubernetes-list-type: set", "x-kubernetes-list-type: bag");
    let error = add_error(&bad_list_type);
    let path = "spec.versions[1].schema.openAPIV3Schema.properties.spec.properties.dnsNames.x-kubernetes-list-type";
    assert_eq!(error.path(), Some(path));

    let bad_item = CERTIFICATE_CRD.replace("x-kubernetes-list-map-keys: [type]", "x-kubernetes-list-map-keys: [1]");
    let path =
        "spec.versions[1].schema.openAPIV3Schema.properties.status.properties.conditions.x-kubernetes-list-map-keys";
    assert_eq!(add_error(&bad_item).path(), Some(path));

    let bad_branch = CERTIFICATE_CRD.replace(
        "- properties:\n                    algorithm",
        "- properties: 3\n                  x:\n                    algorithm",
    );
    let path = "spec.versions[1].schema.openAPIV3Schema.properties.spec.properties.privateKey.oneOf[0].properties";
    assert_eq!(add_error(&bad_branch).path(), Some(path));

    let no_kind = CERTIFICATE_CRD.replace("    kind: Certificate\n", "");
    let error = add_error(&no_kind);
    assert!(matches!(&error, SchemaError::MissingField { path, .. } if path == "spec.names.kind"), "{error:?}");
    assert_eq!(
        error.to_string(),
        "CustomResourceDefinition `certificates.cert.example.io`: `spec.names.kind` is missing"
    );

    let bad_scope = CERTIFICATE_CRD.replace("scope: Namespaced", "scope: Galaxy");
    assert_eq!(add_error(&bad_scope).path(), Some("spec.scope"));

    let array_root = CERTIFICATE_CRD.replace("resource.\n        type: object", "resource.\n        type: array");
    assert_eq!(add_error(&array_root).path(), Some("spec.versions[1].schema.openAPIV3Schema.type"));
}

#[test]
fn non_crds_are_refused() {
    let config_map = Object::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}
    }))
    .expect("an object");
    let error = Schema::new().add_crd(&config_map).expect_err("not a CRD");
    assert!(matches!(error, SchemaError::NotACrd { .. }));
    assert_eq!(error.crd(), "settings");
    assert_eq!(error.path(), None);
    let beta = CERTIFICATE_CRD.replace("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1");
    assert!(matches!(add_error(&beta), SchemaError::NotACrd { .. }));
}

#[test]
fn deeply_nested_crd_schemas_are_refused() {
    let mut schema = json!({"type": "string"});
    for _ in 0..200 {
        schema = json!({"type": "object", "properties": {"a": schema}});
    }
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "deeps.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Deep"},
                 "versions": [{"name": "v1", "served": true, "schema": {"openAPIV3Schema": schema}}]}
    });
    let error = Schema::new().add_crd(&Object::from_value(crd).expect("an object")).expect_err("too deep");
    assert!(error.to_string().contains("nested at most"), "{error}");
}

#[test]
fn schema_is_shareable() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync + 'static>() {}
    assert_traits::<Schema>();
    assert_traits::<SchemaError>();
    let node = root("", "v1", "Pod");
    assert!(format!("{node:?}").contains("io.k8s.api.core.v1.Pod"));
    let fields: Vec<&str> = node.fields().map(|(name, _)| name).collect();
    assert_eq!(fields, ["apiVersion", "kind", "metadata", "spec", "status"]);
}

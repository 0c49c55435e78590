#!/usr/bin/env python3
"""Generate crates/core/data/kubernetes-1.37.json, the built-in schema table of gitops_core::schema.

The Rust crate embeds the output with include_str!, so building it needs neither Python nor the
network. Rerun this script only to move to another Kubernetes release. Standard library only.

Inputs (both offline):

1. The JSON Schema (2020-12) definitions shipped by the PyPI package kubernetes-validate:

       pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/kv
       mkdir -p /tmp/kv/x && cd /tmp/kv/x && unzip -q ../kubernetes_validate-1.37.0-*.whl

   which gives kubernetes_validate/kubernetes-json-schema/v1.37.0-local/_definitions.json.

2. The k8s-openapi 0.29.0 crate source, for each resource's scope (the schema file has none):

       cargo fetch   # or any build that downloads k8s-openapi 0.29.0 into ~/.cargo/registry

Run from anywhere:

    python3 crates/core/data/generate_schema.py \\
        --definitions /tmp/kv/x/kubernetes_validate/kubernetes-json-schema/v1.37.0-local/_definitions.json \\
        --k8s-openapi ~/.cargo/registry/src/index.crates.io-*/k8s-openapi-0.29.0/src/v1_37 \\
        --out crates/core/data/kubernetes-1.37.json

The output is deterministic (sorted keys, node ids assigned in a fixed order), so rerunning on
the same inputs reproduces the committed file byte for byte; `git diff` shows any drift.

Output format (read by crates/core/src/schema/builtin.rs):

    {"source": "...", "nodes": [NODE, ...], "kinds": [[group, version, kind, scope, node], ...]}

A NODE is a position in the schema; a node id is its index in "nodes". Each NODE is an object:

- its own body, exactly one of
  {"struct": {field: node, ...}}, {"map": node}, {"list": node}, {"scalar": "string" | "integer" |
  "number" | "boolean" | "intOrString" | "quantity"}, {"deduced": true};
  or {"ref": node}: the body of another node (a definition), with this position's own attributes;
- "name": the definition name (io.k8s.api.core.v1.PodSpec) for definitions;
- attributes of the position: "listType" (atomic | set | map), "listMapKeys" [..], "mergeKey",
  "strategy" (the x-kubernetes-patch-strategy text), "mapType" (atomic | granular).

Node 0 is the deduced node; nodes 1-4 are the plain scalars string, integer, number, boolean.
Objects without properties and without additionalProperties (FieldsV1, RawExtension, empty
specs) are deduced, as structured-merge-diff treats them. Descriptions, enums, formats and
validation keywords are dropped.
"""

import argparse
import glob
import json
import os
import re
import sys

DEF_PREFIX = "#/$defs/"
SCALARS = ["string", "integer", "number", "boolean"]
NAMED_SCALARS = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "intOrString",
}
# Discovery documents implement k8s-openapi's Resource trait but are not resources one applies.
NOT_RESOURCES = {"APIGroup", "APIGroupList", "APIResourceList", "APIVersions"}
SCOPES = {"NamespaceResourceScope": "Namespaced", "ClusterResourceScope": "Cluster"}
RESOURCE_IMPL = re.compile(r"impl crate::Resource for (\w+) \{(.*?)\n\}", re.S)


def read_scopes(k8s_openapi_dir):
    """(group, version, kind) -> "Namespaced" | "Cluster" from k8s-openapi's Resource impls."""
    scopes = {}
    files = sorted(glob.glob(os.path.join(k8s_openapi_dir, "**", "*.rs"), recursive=True))
    if not files:
        sys.exit(f"no .rs files under {k8s_openapi_dir}")
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for m in RESOURCE_IMPL.finditer(text):
            body = m.group(2)

            def const(name, body=body):
                return re.search(rf"const {name}: &'static str = \"(.*?)\"", body).group(1)

            scope = re.search(r"type Scope = crate::(\w+)", body).group(1)
            if scope in SCOPES and const("KIND") not in NOT_RESOURCES:
                scopes[(const("GROUP"), const("VERSION"), const("KIND"))] = SCOPES[scope]
    return scopes


def types_of(schema):
    """The declared types without "null"."""
    t = schema.get("type")
    if t is None:
        return []
    if isinstance(t, str):
        t = [t]
    return [x for x in t if x != "null"]


def refs_in(schema):
    """Every definition name a schema refers to, at any depth."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value[len(DEF_PREFIX):]
            else:
                yield from refs_in(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from refs_in(value)


class Generator:
    def __init__(self, defs):
        self.defs = defs
        self.nodes = [{"deduced": True}] + [{"scalar": s} for s in SCALARS]
        self.def_ids = {}

    def scalar_id(self, name):
        return 1 + SCALARS.index(name)

    def add(self, node):
        self.nodes.append(node)
        return len(self.nodes) - 1

    @staticmethod
    def attrs(schema):
        out = {}
        for key, name in [
            ("x-kubernetes-list-type", "listType"),
            ("x-kubernetes-list-map-keys", "listMapKeys"),
            ("x-kubernetes-patch-merge-key", "mergeKey"),
            ("x-kubernetes-patch-strategy", "strategy"),
            ("x-kubernetes-map-type", "mapType"),
        ]:
            if key in schema:
                out[name] = schema[key]
        return out

    def body(self, schema, name=None):
        """The body of an inline schema or a definition: {"struct": ..} etc."""
        if name in NAMED_SCALARS:
            return {"scalar": NAMED_SCALARS[name]}
        if schema.get("format") == "int-or-string":
            return {"scalar": "intOrString"}
        types = types_of(schema)
        if "properties" in schema or types == ["object"]:
            props = schema.get("properties") or {}
            extra = schema.get("additionalProperties")
            if props:
                return {"struct": {k: self.position(v) for k, v in sorted(props.items())}}
            if isinstance(extra, dict):
                return {"map": self.position(extra)}
            return {"deduced": True}
        if "items" in schema or types == ["array"]:
            return {"list": self.position(schema["items"]) if "items" in schema else 0}
        if len(types) == 1 and types[0] in SCALARS:
            return {"scalar": types[0]}
        if "oneOf" in schema or len(types) > 1:
            sys.exit(f"unexpected union type in {name or schema}")
        return {"deduced": True}

    def position(self, schema):
        """The node id for a property, list item or map value schema."""
        attrs = self.attrs(schema)
        if "$ref" in schema:
            target = self.def_ids[schema["$ref"][len(DEF_PREFIX):]]
            return self.add({"ref": target, **attrs}) if attrs else target
        body = self.body(schema)
        if not attrs and "deduced" in body:
            return 0
        if not attrs and "scalar" in body and body["scalar"] in SCALARS:
            return self.scalar_id(body["scalar"])
        return self.add({**body, **attrs})

    def run(self, scopes):
        roots = {}
        for name in sorted(self.defs):
            for gvk in self.defs[name].get("x-kubernetes-group-version-kind", []):
                key = (gvk["group"], gvk["version"], gvk["kind"])
                if key in scopes:
                    roots[key] = name
        missing = sorted(set(scopes) - set(roots))
        if missing:
            sys.exit(f"resources without a schema definition: {missing}")

        reachable, todo = set(), sorted(set(roots.values()))
        while todo:
            name = todo.pop()
            if name not in reachable:
                reachable.add(name)
                todo.extend(sorted(set(refs_in(self.defs[name])) - reachable))

        # Definition nodes first, in name order, then their anonymous positions in the same order.
        for name in sorted(reachable):
            self.def_ids[name] = self.add({})
        for name in sorted(reachable):
            schema = self.defs[name]
            node = {"name": name, **self.body(schema, name)}
            if "x-kubernetes-map-type" in schema:
                node["mapType"] = schema["x-kubernetes-map-type"]
            self.nodes[self.def_ids[name]] = node

        kinds = []
        for (group, version, kind), name in sorted(roots.items()):
            node = self.nodes[self.def_ids[name]]
            fields = node.get("struct", {})
            for field, want in [("apiVersion", "string"), ("kind", "string")]:
                if self.nodes[fields.get(field, 0)].get("scalar") != want:
                    sys.exit(f"{name}: {field} is not a string")
            meta = self.def_ids["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
            if fields.get("metadata") != meta:
                sys.exit(f"{name}: metadata is not ObjectMeta")
            kinds.append([group, version, kind, scopes[(group, version, kind)], self.def_ids[name]])
        return kinds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--definitions", required=True, help="kubernetes-validate _definitions.json")
    parser.add_argument("--k8s-openapi", required=True, help="k8s-openapi-0.29.0/src/v1_37 folder")
    parser.add_argument("--out", required=True, help="the JSON file to write")
    parser.add_argument("--source", default="kubernetes-validate 1.37.0 (v1.37.0-local); k8s-openapi 0.29.0 (v1_37)")
    args = parser.parse_args()

    with open(args.definitions, encoding="utf-8") as f:
        defs = json.load(f)["$defs"]
    generator = Generator(defs)
    kinds = generator.run(read_scopes(args.k8s_openapi))

    def dump(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    lines = ["{", f'"source":{dump(args.source)},', '"kinds":[']
    lines.append(",\n".join(dump(k) for k in kinds))
    lines.append("],")
    lines.append('"nodes":[')
    lines.append(",\n".join(dump(n) for n in generator.nodes))
    lines.append("]")
    lines.append("}")
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{args.out}: {len(kinds)} kinds, {len(generator.nodes)} nodes", file=sys.stderr)


if __name__ == "__main__":
    main()

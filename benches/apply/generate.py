#!/usr/bin/env python3
"""Writes N objects (default 2000) into DIR/objects.yaml: a Namespace, then ConfigMaps, Services
and ServiceAccounts in it, as one application."""
import os
import sys

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
os.makedirs(out, exist_ok=True)
docs = ["apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n"]
for i in range(count - 1):
    kind = i % 4
    if kind < 2:
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: bench\n"
                    f"data:\n  index: \"{i}\"\n  greeting: hello\n")
    elif kind == 2:
        docs.append(f"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  namespace: bench\n"
                    f"spec:\n  selector:\n    app: a{i}\n  ports:\n  - port: 80\n    targetPort: 8080\n")
    else:
        docs.append(f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-{i}\n  namespace: bench\n")
with open(os.path.join(out, "objects.yaml"), "w") as f:
    f.write("---\n".join(docs))

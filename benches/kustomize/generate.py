#!/usr/bin/env python3
"""Generates the large Kustomize tree the render benchmark builds: 60 bases of 50 resources each
(3,000 in all) under 10 overlays (6 bases each), with name prefixes, labels, annotations, images,
replicas, ConfigMap generators, replacements, JSON 6902 patches, and a top kustomization
that builds every overlay at once.

Usage: generate.py OUT_DIR   (deterministic: the same tree every time)
"""
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "target/bench-kustomize"
BASES, PER_BASE, OVERLAYS = 60, 50, 10


def write(path, text):
    path = os.path.join(out, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def resources(b):
    docs = []
    for i in range(PER_BASE // 5):
        app = f"app{b}-{i}"
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  labels:
    app: {app}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {app}
  template:
    metadata:
      labels:
        app: {app}
    spec:
      serviceAccountName: {app}
      containers:
      - name: main
        image: registry.example.com/team/{app}:1.0.0
        ports:
        - containerPort: 8080
          name: http
        envFrom:
        - configMapRef:
            name: settings{b}
        env:
        - name: MODE
          value: standard
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
        volumeMounts:
        - name: config
          mountPath: /etc/app
      volumes:
      - name: config
        configMap:
          name: {app}-files
""")
        docs.append(f"""apiVersion: v1
kind: Service
metadata:
  name: {app}
spec:
  selector:
    app: {app}
  ports:
  - name: http
    port: 80
    targetPort: http
""")
        docs.append(f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-files
data:
  app.properties: |
    name={app}
    threads=4
""")
        docs.append(f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
""")
        docs.append(f"""apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {app}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: {app}
""")
    return "---\n".join(docs)


for b in range(BASES):
    write(f"bases/base{b}/resources.yaml", resources(b))
    write(f"bases/base{b}/kustomization.yaml", f"""resources:
- resources.yaml
configMapGenerator:
- name: settings{b}
  literals:
  - BASE=base{b}
  - LOG_LEVEL=info
commonLabels:
  base: base{b}
""")

for o in range(OVERLAYS):
    bases = "".join(f"- ../../bases/base{b}\n" for b in range(o * 6, o * 6 + 6))
    first_app = f"app{o * 6}-0"
    write(f"overlays/o{o}/kustomization.yaml", f"""resources:
{bases}namePrefix: o{o}-
namespace: team-{o}
labels:
- pairs:
    overlay: o{o}
  includeSelectors: false
  includeTemplates: true
commonAnnotations:
  owner: team-{o}
images:
- name: registry.example.com/team/{first_app}
  newTag: 2.0.{o}
replicas:
- name: {first_app}
  count: 3
configMapGenerator:
- name: overlay-settings
  literals:
  - OVERLAY=o{o}
replacements:
- source:
    kind: ConfigMap
    name: overlay-settings
    fieldPath: metadata.name
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.metadata.annotations.settings
    options:
      create: true
patches:
- target:
    kind: Deployment
  patch: |-
    - op: add
      path: /spec/template/metadata/annotations
      value:
        overlay: o{o}
- target:
    kind: Service
    name: app.*-1
  patch: |-
    - op: replace
      path: /spec/ports/0/port
      value: 8080
""")

write("kustomization.yaml", "resources:\n" + "".join(f"- overlays/o{o}\n" for o in range(OVERLAYS)))
print(out)

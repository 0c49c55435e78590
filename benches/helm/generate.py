#!/usr/bin/env python3
"""Writes a large chart for the helm benchmarks: 200 templates (Deployment, Service, ConfigMap
per component, with helpers through include, toYaml | nindent, range over dicts, tpl) plus a
helpers file. Usage: generate.py DIR [COMPONENTS]"""
import os
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 66
os.makedirs(os.path.join(out, "templates"), exist_ok=True)
with open(os.path.join(out, "Chart.yaml"), "w") as f:
    f.write("apiVersion: v2\nname: big\nversion: 1.0.0\nappVersion: \"2.0\"\n")
with open(os.path.join(out, "values.yaml"), "w") as f:
    f.write("image: {registry: registry.example.com, tag: \"2.0\"}\nlabels: {team: platform, tier: backend}\n")
    f.write("resources: {limits: {cpu: 500m, memory: 256Mi}, requests: {cpu: 100m, memory: 128Mi}}\n")
    f.write("greeting: \"hello {{ .Release.Name }}\"\ncomponents:\n")
    for i in range(n):
        f.write(f"  c{i:03d}: {{replicas: {i % 3 + 1}, port: {8000 + i}, env: {{A: \"{i}\", B: x{i}}}}}\n")
with open(os.path.join(out, "templates", "_helpers.tpl"), "w") as f:
    f.write('''{{- define "big.fullname" -}}{{ printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "big.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
helm.sh/chart: {{ .root.Chart.Name }}-{{ .root.Chart.Version }}
{{- range $k, $v := .root.Values.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}
''')
kinds = ["deployment", "service", "configmap"]
for i in range(n):
    name = f"c{i:03d}"
    ctx = f'(dict "root" $ "name" "{name}")'
    with open(os.path.join(out, "templates", f"{name}-deployment.yaml"), "w") as f:
        f.write(f'''{{{{- $c := index .Values.components "{name}" }}}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "big.fullname" {ctx} }}}}
  labels: {{{{- include "big.labels" {ctx} | nindent 4 }}}}
spec:
  replicas: {{{{ $c.replicas }}}}
  selector:
    matchLabels: {{{{- include "big.labels" {ctx} | nindent 6 }}}}
  template:
    metadata:
      labels: {{{{- include "big.labels" {ctx} | nindent 8 }}}}
    spec:
      containers:
        - name: {name}
          image: "{{{{ .Values.image.registry }}}}/{name}:{{{{ .Values.image.tag }}}}"
          env:
            {{{{- range $k, $v := $c.env }}}}
            - name: {{{{ $k }}}}
              value: {{{{ $v | quote }}}}
            {{{{- end }}}}
          resources: {{{{- toYaml .Values.resources | nindent 12 }}}}
''')
    with open(os.path.join(out, "templates", f"{name}-service.yaml"), "w") as f:
        f.write(f'''{{{{- $c := index .Values.components "{name}" }}}}
apiVersion: v1
kind: Service
metadata:
  name: {{{{ include "big.fullname" {ctx} }}}}
spec:
  ports:
    - port: {{{{ $c.port }}}}
  selector: {{{{- include "big.labels" {ctx} | nindent 4 }}}}
''')
    with open(os.path.join(out, "templates", f"{name}-configmap.yaml"), "w") as f:
        f.write(f'''apiVersion: v1
kind: ConfigMap
metadata:
  name: {{{{ include "big.fullname" {ctx} }}}}
data:
  greeting: {{{{ tpl .Values.greeting . | quote }}}}
''')
print(f"{3 * n + 1} templates in {out}")

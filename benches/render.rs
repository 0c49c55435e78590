//! In-process rendering benchmarks (criterion). Whole-process comparisons with the peers live in
//! `benches/*/compare.sh`.
//!
//! `kustomize/3070-resources` builds the tree `benches/kustomize/generate.py` writes (60 bases,
//! 10 overlays; generated into `target/` on first run).
//!
//! `helm-template/deployment` parses and executes a Deployment template shaped like the one
//! `helm create` writes (helpers through `include`, `toYaml | nindent`, `with`, `range`),
//! with Helm's functions: the template engine's share of rendering a chart.
//!
//! `helm-chart/helm-create` renders the `helm create` scaffold
//! (`tests/fixtures/helm/helm-create/chart`) in process, as `gitops render` does: load, values,
//! all templates, sorting and `helm template`'s text. `helm-chart/199-templates` renders the chart
//! `benches/helm/generate.py` writes (generated into `target/` on first run).

use std::path::PathBuf;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use gitops_core::DiskTree;
use gitops_render::{RenderOptions, render};

fn kustomize_tree() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tree = root.join("target/bench-kustomize-criterion");
    if !tree.join("kustomization.yaml").exists() {
        let status = Command::new("python3")
            .arg(root.join("benches/kustomize/generate.py"))
            .arg(&tree)
            .status()
            .expect("python3 runs the tree generator");
        assert!(status.success(), "generating the benchmark tree failed");
    }
    tree
}

fn kustomize(c: &mut Criterion) {
    let tree = DiskTree::new(kustomize_tree()).expect("benchmark tree");
    let options = RenderOptions::default();
    let mut group = c.benchmark_group("kustomize");
    group.sample_size(20);
    group.bench_function("3070-resources", |b| {
        b.iter(|| render(&tree, "", &options).expect("the benchmark tree renders"));
    });
    group.finish();
}

const HELPERS: &str = r#"{{- define "app.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "app.fullname" -}}
{{- if .Values.fullnameOverride }}{{ .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}{{ printf "%s-%s" .Release.Name (include "app.name" .) | trunc 63 | trimSuffix "-" }}{{ end }}
{{- end }}
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ include "app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
"#;

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  template:
    metadata:
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          ports:
            {{- range $name, $port := .Values.ports }}
            - name: {{ $name }}
              containerPort: {{ $port }}
            {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"#;

fn helm_template(c: &mut Criterion) {
    use gitops_render::helm::funcs::{helm_funcs, include_func};
    use gitops_render::helm::template::{MissingKey, Templates, Value};

    let values = serde_json::json!({
        "replicaCount": 1, "autoscaling": {"enabled": false}, "podAnnotations": {"a": "b"},
        "image": {"repository": "nginx", "tag": ""}, "ports": {"http": 80, "metrics": 9090},
        "resources": {"limits": {"cpu": "100m", "memory": "128Mi"}},
    });
    let data = Value::from_json(&serde_json::json!({
        "Values": values,
        "Release": {"Name": "r", "Namespace": "default", "Service": "Helm"},
        "Chart": {"Name": "app", "AppVersion": "1.0.0"},
    }));
    let mut group = c.benchmark_group("helm-template");
    group.bench_function("deployment", |b| {
        b.iter(|| {
            let mut funcs = helm_funcs();
            funcs.insert("include".to_owned(), include_func("gotpl"));
            let mut set = Templates::new().with_funcs(funcs).missing_key(MissingKey::Zero);
            set.parse("app/templates/_helpers.tpl", HELPERS).expect("helpers parse");
            set.parse("app/templates/deployment.yaml", DEPLOYMENT).expect("deployment parses");
            set.execute("app/templates/deployment.yaml", &data).expect("deployment renders")
        });
    });
    group.finish();
}

fn helm_chart(c: &mut Criterion) {
    use gitops_render::helm::chart::{TemplateOptions, template};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let big = root.join("target/bench-helm-big-criterion");
    if !big.join("Chart.yaml").exists() {
        let status = Command::new("python3")
            .arg(root.join("benches/helm/generate.py"))
            .arg(&big)
            .status()
            .expect("python3 runs the chart generator");
        assert!(status.success(), "generating the benchmark chart failed");
    }
    let fixtures = DiskTree::new(root.join("tests/fixtures/helm/helm-create")).expect("the fixture exists");
    let big = DiskTree::new(&big).expect("the generated chart exists");
    let options = TemplateOptions::default();
    let mut group = c.benchmark_group("helm-chart");
    group.bench_function("helm-create", |b| {
        b.iter(|| template(&fixtures, "chart", &options).expect("the chart renders").to_helm_output());
    });
    group.sample_size(20);
    group.bench_function("199-templates", |b| {
        b.iter(|| template(&big, "", &options).expect("the chart renders").to_helm_output());
    });
    group.finish();
}

criterion_group!(benches, kustomize, helm_template, helm_chart);
criterion_main!(benches);

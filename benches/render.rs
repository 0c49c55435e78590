//! In-process rendering benchmarks (criterion). Whole-process comparisons with the peers live in
//! `benches/*/compare.sh`.
//!
//! `kustomize/3070-resources` builds the tree `benches/kustomize/generate.py` writes (60 bases,
//! 10 overlays; generated into `target/` on first run).

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

criterion_group!(benches, kustomize);
criterion_main!(benches);

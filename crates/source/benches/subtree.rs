//! Case (c) of `benches/source/compare.sh`, in process: resolve `main` in a mirror of the generated
//! benchmark repository (20,000 files, 3,000 commits, ~100 MB) and read every file of a 500-file
//! folder at it, with a fresh `Repository` each time (no warm object cache carried over).
//!
//! The repository is made by `benches/source/generate.py` into `$BENCH_DIR/repo.git` (default
//! `/tmp/gitops-bench-source`) when it is not there yet. Run: `cargo bench -p gitops-source --bench subtree`.

use std::path::PathBuf;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use gitops_core::tree::{EntryKind, FileTree};
use gitops_source::{Repository, Snapshot};

fn repository() -> PathBuf {
    let dir = std::env::var_os("BENCH_DIR").map_or_else(|| PathBuf::from("/tmp/gitops-bench-source"), PathBuf::from);
    let repo = dir.join("repo.git");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches/source/generate.py");
    let status = Command::new("python3").arg(script).arg(&repo).status().expect("python3 runs generate.py");
    assert!(status.success(), "generate.py failed");
    repo
}

fn read_all(snapshot: &Snapshot, dir: &str) -> usize {
    let mut files = 0;
    for entry in snapshot.list(dir).expect("list") {
        let path = if dir.is_empty() { entry.name } else { format!("{dir}/{}", entry.name) };
        match entry.kind {
            EntryKind::File => {
                assert!(!snapshot.read(&path).expect("read").is_empty());
                files += 1;
            }
            EntryKind::Dir => files += read_all(snapshot, &path),
            _ => {}
        }
    }
    files
}

fn subtree(c: &mut Criterion) {
    let path = repository();
    c.bench_function("resolve main and read a 500-file folder", |b| {
        b.iter(|| {
            let repo = Repository::open(&path).expect("open");
            let revision = repo.resolve("main").expect("resolve");
            let folder = repo.snapshot(&revision).expect("snapshot").subtree("apps/app-07").expect("subtree");
            assert_eq!(read_all(&folder, ""), 500);
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = subtree
}
criterion_main!(benches);

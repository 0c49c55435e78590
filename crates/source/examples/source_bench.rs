//! The gitops-source side of `benches/source/compare.sh`: one operation per run, so the script can
//! time it and read its peak memory the same way as the git CLI's.
//!
//! ```text
//! source_bench clone CACHE URL             # cold shallow (depth 1) mirror of every branch and tag
//! source_bench fetch CACHE URL             # bring an existing mirror up to date
//! source_bench read  CACHE URL REV FOLDER  # fetch, resolve REV, read every file under FOLDER
//! ```
//!
//! `read` prints the number of files and bytes read, so a run that read nothing cannot pass as fast.

use std::sync::atomic::AtomicBool;

use gitops_core::tree::{EntryKind, FileTree};
use gitops_source::{Cache, DiscardProgress, FetchOptions, RemoteUrl, Snapshot};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let interrupt = AtomicBool::new(false);
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["clone", cache, url] => {
            let url = RemoteUrl::parse(url)?;
            let options = FetchOptions::default().depth(Some(1));
            let (_mirror, outcome) = Cache::new(*cache).open_or_clone(&url, &options, DiscardProgress, &interrupt)?;
            if outcome.is_none() {
                return Err("the cache already had a mirror: clone needs an empty cache".into());
            }
        }
        ["fetch", cache, url] => {
            let url = RemoteUrl::parse(url)?;
            Cache::new(*cache).update(&url, &FetchOptions::default(), DiscardProgress, &interrupt)?;
        }
        ["read", cache, url, rev, folder] => {
            let url = RemoteUrl::parse(url)?;
            let (mirror, _) = Cache::new(*cache).update(&url, &FetchOptions::default(), DiscardProgress, &interrupt)?;
            let repo = mirror.repository();
            let snapshot = repo.snapshot(&repo.resolve(rev)?)?.subtree(folder)?;
            let (files, bytes) = read_all(&snapshot, "")?;
            println!("{files} files, {bytes} bytes");
        }
        _ => return Err("usage: source_bench clone|fetch CACHE URL | read CACHE URL REV FOLDER".into()),
    }
    Ok(())
}

/// Reads every file under `dir`, recursively: (files, bytes).
fn read_all(snapshot: &Snapshot, dir: &str) -> Result<(usize, usize), Box<dyn std::error::Error>> {
    let (mut files, mut bytes) = (0, 0);
    for entry in snapshot.list(dir)? {
        let path = if dir.is_empty() { entry.name } else { format!("{dir}/{}", entry.name) };
        match entry.kind {
            EntryKind::File => {
                bytes += snapshot.read(&path)?.len();
                files += 1;
            }
            EntryKind::Dir => {
                let (f, b) = read_all(snapshot, &path)?;
                files += f;
                bytes += b;
            }
            _ => {} // submodules are listed, not followed
        }
    }
    Ok((files, bytes))
}

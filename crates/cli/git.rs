//! `--repo` and `--rev`: open a local repository in place, or mirror a remote one into the cache,
//! and resolve the revision. Also `gitops source resolve` and `gitops source ls-remote`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use gitops_core::Revision;
use gitops_source::{
    Cache, Credentials, DiscardProgress, FetchOptions, Keyring, Reference, RemoteUrl, Repository, Verified,
};

use crate::flags::{GitArgs, SourceCommand, SourceFormat};
use crate::output;

/// Set by the first Ctrl-C during a Git operation (see `crate::interrupt`): the fetch stops at
/// its next read, leaving the cache as it was.
fn interrupt() -> &'static AtomicBool {
    crate::interrupt::flag()
}

/// Whether `repo` is a folder on this machine (read in place, work tree and all) rather than a
/// URL to mirror.
fn is_local(repo: &str) -> bool {
    !repo.contains("://") && Path::new(repo).is_dir()
}

pub(crate) fn fetch_options(args: &GitArgs) -> FetchOptions {
    FetchOptions::default()
        .depth(args.depth)
        .credentials(Credentials::from_env())
        .ca_file(args.ca_file.clone())
        .ssh(args.ssh_key.clone(), args.known_hosts.clone())
        .timeout(args.fetch_timeout)
}

/// The keyring of `--verify-key`, or `None` when no key is given (no verification).
fn keyring(args: &GitArgs) -> anyhow::Result<Option<Keyring>> {
    if args.verify_key.is_empty() {
        return Ok(None);
    }
    let mut keyring = Keyring::new();
    for path in &args.verify_key {
        keyring.add_file(path)?;
    }
    Ok(Some(keyring))
}

pub(crate) fn cache(args: &GitArgs) -> anyhow::Result<Cache> {
    let root = args
        .cache
        .clone()
        .or_else(Cache::default_root)
        .context("no cache folder: pass --cache DIR or set GITOPS_CACHE_DIR, XDG_CACHE_HOME or HOME")?;
    Ok(Cache::new(root))
}

/// The repository `repo` names, fetched up to date when it is remote.
pub(crate) fn repository(args: &GitArgs, repo: &str) -> anyhow::Result<Repository> {
    if is_local(repo) {
        return Ok(Repository::open(repo)?);
    }
    let url = RemoteUrl::parse(repo)?;
    let cache = cache(args)?;
    let (mirror, outcome) = {
        let _git = crate::interrupt::GitPhase::enter();
        cache.update(&url, &fetch_options(args), DiscardProgress, interrupt())?
    };
    tracing::info!(%url, cloned = outcome.cloned, received_pack = outcome.received_pack, refs = outcome.updated_refs, "fetched");
    Ok(mirror.repository().clone())
}

/// Opens `--repo` and resolves `--rev`, verifying its signatures when `--verify-key` is given.
pub(crate) fn resolve(args: &GitArgs) -> anyhow::Result<Option<(Repository, Revision)>> {
    Ok(resolve_verified(args)?.map(|(repository, revision, _)| (repository, revision)))
}

/// [`resolve`], with the signatures that were verified (none without `--verify-key`).
fn resolve_verified(args: &GitArgs) -> anyhow::Result<Option<(Repository, Revision, Vec<Verified>)>> {
    let Some(repo) = &args.repo else { return Ok(None) };
    // Keys first: a bad key file fails before any network traffic.
    let keyring = keyring(args)?;
    let repository = repository(args, repo)?;
    let reference = Reference::parse(&args.rev)?;
    let revision = repository.resolve_reference(&reference).with_context(|| format!("in {repo}"))?;
    let verified = match &keyring {
        Some(keyring) => repository
            .verify(&revision, keyring, args.verify_mode)
            .with_context(|| format!("refusing {revision}: signature verification failed"))?,
        None => Vec::new(),
    };
    for v in &verified {
        tracing::info!("{v}");
    }
    Ok(Some((repository, revision, verified)))
}

pub(crate) fn run(command: SourceCommand) -> anyhow::Result<ExitCode> {
    match command {
        SourceCommand::Resolve(args) => {
            let repo = args.git.repo.as_deref().context("--repo is required")?;
            let Some((_, revision, verified)) = resolve_verified(&args.git)? else {
                anyhow::bail!("--repo is required")
            };
            match args.output {
                SourceFormat::Json => output::print_json(&serde_json::json!({
                    "repository": redacted(repo),
                    "revision": revision.to_string(),
                    "reference": revision.reference,
                    "commit": revision.commit,
                    "author": revision.author,
                    "committer": revision.committer,
                    "message": revision.message,
                    "verified": verified.iter().map(|v| serde_json::json!({
                        "object": v.object.to_string(),
                        "format": v.format.to_string(),
                        "key": v.key,
                        "signer": v.signer,
                    })).collect::<Vec<_>>(),
                }))?,
                SourceFormat::Text => {
                    println!("{revision}");
                    let who =
                        |s: &gitops_core::Signature| format!("{} <{}> {} {:+}", s.name, s.email, s.time, s.offset);
                    if let Some(author) = &revision.author {
                        println!("author:    {}", who(author));
                    }
                    if let Some(committer) = &revision.committer {
                        println!("committer: {}", who(committer));
                    }
                    if let Some(message) = &revision.message {
                        println!("message:   {}", message.lines().next().unwrap_or_default());
                    }
                    for v in &verified {
                        println!("verified:  {v}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SourceCommand::LsRemote(args) => {
            let repo = args.git.repo.as_deref().context("--repo is required")?;
            let url = RemoteUrl::parse(repo)?;
            let refs = {
                let _git = crate::interrupt::GitPhase::enter();
                cache(&args.git)?.ls_remote(&url, &fetch_options(&args.git), interrupt())?
            };
            match args.output {
                SourceFormat::Json => output::print_json(
                    &refs
                        .iter()
                        .map(|r| serde_json::json!({"name": r.name, "commit": r.commit, "tag": r.tag, "target": r.symref_target}))
                        .collect::<Vec<_>>(),
                )?,
                SourceFormat::Text => {
                    for r in &refs {
                        match &r.symref_target {
                            Some(target) => println!("{}\t{} -> {target}", r.commit, r.name),
                            None => println!("{}\t{}", r.commit, r.name),
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The URL as shown: without credentials.
fn redacted(repo: &str) -> String {
    RemoteUrl::parse(repo).map_or_else(|_| repo.to_owned(), |u| u.to_string())
}

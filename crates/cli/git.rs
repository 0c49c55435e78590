//! `--repo` and `--rev`: open a local repository in place, or mirror a remote one into the cache,
//! and resolve the revision. Also `gitops source resolve` and `gitops source ls-remote`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use gitops_core::Revision;
use gitops_source::{Cache, Credentials, DiscardProgress, FetchOptions, Reference, RemoteUrl, Repository};

use crate::flags::{GitArgs, SourceCommand, SourceFormat};
use crate::output;

/// Never set: the binary has no signal handler yet, so a fetch runs to its end or its error.
static INTERRUPT: AtomicBool = AtomicBool::new(false);

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
    let (mirror, outcome) = cache.update(&url, &fetch_options(args), DiscardProgress, &INTERRUPT)?;
    tracing::info!(%url, cloned = outcome.cloned, received_pack = outcome.received_pack, refs = outcome.updated_refs, "fetched");
    Ok(mirror.repository().clone())
}

/// Opens `--repo` and resolves `--rev`.
pub(crate) fn resolve(args: &GitArgs) -> anyhow::Result<Option<(Repository, Revision)>> {
    let Some(repo) = &args.repo else { return Ok(None) };
    let repository = repository(args, repo)?;
    let reference = Reference::parse(&args.rev)?;
    let revision = repository.resolve_reference(&reference).with_context(|| format!("in {repo}"))?;
    Ok(Some((repository, revision)))
}

pub(crate) fn run(command: SourceCommand) -> anyhow::Result<ExitCode> {
    match command {
        SourceCommand::Resolve(args) => {
            let repo = args.git.repo.as_deref().context("--repo is required")?;
            let Some((_, revision)) = resolve(&args.git)? else { anyhow::bail!("--repo is required") };
            match args.output {
                SourceFormat::Json => output::print_json(&serde_json::json!({
                    "repository": redacted(repo),
                    "revision": revision.to_string(),
                    "reference": revision.reference,
                    "commit": revision.commit,
                    "author": revision.author,
                    "committer": revision.committer,
                    "message": revision.message,
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
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SourceCommand::LsRemote(args) => {
            let repo = args.git.repo.as_deref().context("--repo is required")?;
            let url = RemoteUrl::parse(repo)?;
            let refs = cache(&args.git)?.ls_remote(&url, &fetch_options(&args.git), &INTERRUPT)?;
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

//! `gitops`: the reference binary. Flags become library options; the libraries do the work.

mod commands;
mod controller;
mod flags;
mod git;
mod helm;
mod history;
mod interrupt;
mod output;
mod progress;
mod reconcile;
mod remote;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = flags::Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GITOPS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        flags::LogFormat::Text => logs.init(),
        flags::LogFormat::Json => logs.json().init(),
    }
    if let Err(error) = interrupt::install() {
        tracing::warn!(%error, "cannot install the Ctrl-C handler; Ctrl-C stops at once");
    }
    match commands::run(cli) {
        Ok(code) => code,
        // The reader went away (`gitops render | head`): stop quietly, as other CLIs do.
        Err(error)
            if error.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

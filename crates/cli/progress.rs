//! Sync progress: a progress bar on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::sync::Arc;

use gitops_apply::Event;
use gitops_core::Action;
use indicatif::{ProgressBar, ProgressStyle};

/// Shows events as they come. Cloning shares the display.
#[derive(Clone)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    verbose: bool,
}

impl Progress {
    /// A display for a sync of `steps` steps: a bar when stderr is a terminal.
    pub(crate) fn new(steps: usize, verbose: bool) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(steps as u64);
            let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress { bar, verbose }
    }

    /// The event sink for the applier.
    pub(crate) fn sink(&self) -> impl Fn(Event) + Send + Sync + 'static {
        let progress = Arc::new(self.clone());
        move |event| progress.show(&event)
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => println!("{text}"),
        }
    }

    fn show(&self, event: &Event) {
        match event {
            Event::Applied { object, action } => {
                let verb = match action {
                    Action::Create => "created",
                    Action::Update => "updated",
                    Action::Delete => "deleted",
                    _ => "unchanged",
                };
                self.line(&format!("{object} {verb}"));
                self.step_done(&object.to_string());
            }
            Event::Unchanged { object } => self.step_done(&object.to_string()),
            Event::Skipped { object, reason } => {
                self.line(&format!("{object} skipped: {reason}"));
                self.step_done(&object.to_string());
            }
            Event::Failed { object, error } => {
                self.line(&format!("{object} failed: {error}"));
                self.step_done(&object.to_string());
            }
            Event::WaveStarted { .. }
            | Event::WaveFinished { .. }
            | Event::HealthChanged { .. }
            | Event::Retrying { .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(event.to_string().trim().to_owned());
                }
                if self.verbose {
                    self.line(&event.to_string());
                }
            }
            Event::HookFinished { .. } => self.line(event.to_string().trim()),
            _ => {
                if self.verbose {
                    self.line(&event.to_string());
                }
            }
        }
    }

    fn step_done(&self, object: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(object.to_owned());
        }
    }

    /// Removes the bar (before the summary is printed).
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

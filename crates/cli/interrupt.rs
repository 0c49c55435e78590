//! Ctrl-C. While a Git operation runs, the first SIGINT sets the interrupt flag the Git layer
//! polls, so the fetch stops at its next read and the cache keeps its previous state; a second
//! SIGINT exits at once. Outside Git operations SIGINT exits at once, as without a handler (the
//! exit status is 130, the shell's for a SIGINT).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use signal_hook::consts::SIGINT;
use signal_hook::flag;

/// Set by SIGINT during a Git operation.
static INTERRUPT: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));
/// `true` outside Git operations, where SIGINT exits at once.
static OUTSIDE_GIT: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(true)));
/// How many Git operations run (remote bases may be fetched while another one runs).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// The flag Git operations are given.
pub(crate) fn flag() -> &'static AtomicBool {
    &INTERRUPT
}

/// Installs the handler (once, first thing in `main`). The actions run in this order on each
/// SIGINT: exit if outside Git; exit if already interrupted (second Ctrl-C); set the flag.
pub(crate) fn install() -> std::io::Result<()> {
    flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&OUTSIDE_GIT))?;
    flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&INTERRUPT))?;
    flag::register(SIGINT, Arc::clone(&INTERRUPT))?;
    Ok(())
}

/// While it lives, SIGINT interrupts the Git operation instead of exiting.
pub(crate) struct GitPhase(());

impl GitPhase {
    pub(crate) fn enter() -> GitPhase {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        OUTSIDE_GIT.store(false, Ordering::SeqCst);
        GitPhase(())
    }
}

impl Drop for GitPhase {
    fn drop(&mut self) {
        if RUNNING.fetch_sub(1, Ordering::SeqCst) == 1 {
            OUTSIDE_GIT.store(true, Ordering::SeqCst);
        }
    }
}

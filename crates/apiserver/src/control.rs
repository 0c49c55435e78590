//! What sits beside the object store: persistence, the watch hub, fault injection and the request
//! log, and the [`ApiServer`] methods that reach them.

use std::path::Path;
use std::sync::MutexGuard;

use crate::clock::UidSource;
use crate::crd;
use crate::error::ApiError;
use crate::faults::{Fault, Faults, RequestRecord};
use crate::persist::{Durable, Recovery, StateError, write_snapshot};
use crate::server::{ApiServer, ApiServerOptions};
use crate::store::Key;
use crate::verbs::{Env, State};
use crate::watch::Hub;

/// Everything that follows the store's commits, behind one lock taken after the state's.
#[derive(Debug)]
pub(crate) struct Side {
    pub(crate) durable: Option<Durable>,
    pub(crate) hub: Hub,
}

/// The error of the in-process `tower::Service` when an injected fault drops the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection was dropped (an injected fault)")]
pub struct Dropped;

fn relock<T>(mutex: &std::sync::Mutex<T>) -> MutexGuard<'_, T> {
    // Every holder leaves the guarded value whole, so a poisoned lock is still usable.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ApiServer {
    /// Opens a server whose objects live in the state directory `dir` (created when missing), and
    /// survive restarts. Every write is appended to a checksummed log and flushed before the reply
    /// (see [`ApiServerOptions::fsync`]); opening replays the log onto the last snapshot and cuts
    /// off a torn or corrupt tail, so the last good state is served. Only one process may have a
    /// directory open at a time.
    ///
    /// ```
    /// use gitops_apiserver::{ApiServer, ApiServerOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let server = ApiServer::open(dir.path(), ApiServerOptions::default())?;
    /// assert_eq!(server.object_count(), 4, "the system namespaces");
    /// drop(server);
    /// let again = ApiServer::open(dir.path(), ApiServerOptions::default())?;
    /// assert_eq!(again.recovery().map(|r| r.discarded_bytes), Some(0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(dir: impl AsRef<Path>, options: ApiServerOptions) -> Result<ApiServer, StateError> {
        let dir = dir.as_ref();
        let uids = UidSource::new(options.sequential_uids);
        let (durable, restored, recovery) = Durable::open(dir, options.fsync)?;
        let mut state = ApiServer::initial_state(&options, &uids);
        let recovery = if let Some(store) = restored {
            state.store = store;
            recovery
        } else {
            write_snapshot(dir, &state.store, options.fsync)?;
            Recovery { revision: state.store.revision(), objects: state.object_count(), ..recovery }
        };
        let server = ApiServer::assemble(state, Some(durable), Some(recovery), options, uids);
        server.restore_crds(dir)?;
        Ok(server)
    }

    /// Registers the kinds of the stored CRDs again, as their creation did.
    fn restore_crds(&self, dir: &Path) -> Result<(), StateError> {
        let mut state = self.lock();
        let env = Env { now: self.inner.options.clock.now(), uids: &self.inner.uids };
        let keys: Vec<Key> =
            state.store.list(crd::GROUP, crd::PLURAL, None, None).map(|(key, _)| key.clone()).collect();
        for key in keys {
            if let Some(target) = state.target_of(&key) {
                state.reconcile_crd(env, &target, &key.name);
            }
        }
        // A status the reconciliation brought up to date is a write like any other.
        self.commit(&mut state, true).map(drop).map_err(|error| StateError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::other(error.to_string()),
        })
    }

    /// What [`ApiServer::open`] found in the state directory; `None` for an in-memory server.
    pub fn recovery(&self) -> Option<&Recovery> {
        self.inner.recovery.as_ref()
    }

    /// Folds the log into a new snapshot now (it also happens on its own as the log grows).
    pub fn compact(&self) -> Result<(), StateError> {
        let state = self.lock();
        let mut side = self.side();
        match side.durable.as_mut() {
            Some(durable) => durable.compact(&state.store),
            None => Ok(()),
        }
    }

    /// Takes the writes of the request that just ran on `state`: persists them, publishes them to
    /// watches, and returns whether there were any. When `keep` is false (the request failed) or
    /// they cannot be made durable, they are undone instead.
    pub(crate) fn commit(&self, state: &mut State, keep: bool) -> Result<bool, ApiError> {
        let batch = state.store.take_changes();
        if batch.changes.is_empty() && batch.from == batch.to {
            return Ok(false);
        }
        if !keep {
            state.store.undo(&batch);
            return Ok(false);
        }
        let mut side = self.side();
        if let Some(durable) = side.durable.as_mut() {
            if let Err(error) = durable.append(&batch) {
                state.store.undo(&batch);
                return Err(ApiError::Internal(format!("the write could not be persisted: {error}")));
            }
            if durable.wants_compaction() {
                // A failed compaction leaves the log in place, which still holds every write.
                let _ = durable.compact(&state.store);
            }
        }
        side.hub.publish(&batch);
        Ok(!batch.changes.is_empty())
    }

    pub(crate) fn side(&self) -> MutexGuard<'_, Side> {
        relock(&self.inner.side)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        relock(&self.inner.faults)
    }

    pub(crate) fn log_request(&self, record: RequestRecord) {
        relock(&self.inner.log).push(record);
    }

    /// Injects a fault; it applies to requests through [`ApiServer::call`], the tower `Service`
    /// and the TCP server, alongside the faults already injected.
    pub fn inject(&self, fault: Fault) {
        self.faults().push(fault);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.faults().clear();
    }

    /// The requests answered so far (the last [`ApiServerOptions::request_log`] of them), oldest
    /// first.
    ///
    /// ```
    /// # use gitops_apiserver::ApiServer;
    /// # let server = ApiServer::default();
    /// let writes = server.requests().iter().filter(|r| r.wrote).count();
    /// assert_eq!(writes, 0);
    /// ```
    pub fn requests(&self) -> Vec<RequestRecord> {
        relock(&self.inner.log).snapshot()
    }

    /// The requests answered so far, and empties the log.
    pub fn take_requests(&self) -> Vec<RequestRecord> {
        relock(&self.inner.log).take()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        drop(self.take_requests());
    }

    /// Ends every open watch with a `410 Expired` `ERROR` event and forgets the event history, as
    /// the API server does when its watch cache restarts: clients must list again.
    pub fn expire_watches(&self) {
        let state = self.lock();
        self.side().hub.expire(state.store.revision());
    }

    /// How many watches are open.
    pub fn open_watches(&self) -> usize {
        self.side().hub.watchers()
    }
}

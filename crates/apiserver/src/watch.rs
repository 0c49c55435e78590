//! Watch: the event history, its fan-out to open watches, and the streams themselves.
//!
//! Every request that writes becomes events (one per stored change) that go into a bounded
//! history and out to the open watches. A watch from resourceVersion N replays the history after
//! N, or answers `410 Expired` (an `ERROR` event holding a `Status`, as the API server does) when
//! N is older than what the history keeps; a watch from `0` or no resourceVersion first lists the
//! current objects as `ADDED`. Label and field selectors filter per event, comparing the object
//! before and after: an object that stops matching is `DELETED` for the watcher, one that starts
//! matching is `ADDED`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::body::ResponseBody;
use crate::error::ApiError;
use crate::request::Query;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Batch, Key, Store};
use crate::stored::Stored;

/// One change to one object, at a resourceVersion.
#[derive(Debug)]
pub(crate) struct Event {
    revision: u64,
    key: Key,
    old: Option<Arc<Stored>>,
    new: Option<Arc<Stored>>,
}

/// What the hub sends to open watches.
#[derive(Debug, Clone)]
enum Message {
    Event(Arc<Event>),
    /// Every open watch ends with `410 Expired`.
    Expire,
}

/// The bounded event history and the channel to open watches.
#[derive(Debug)]
pub(crate) struct Hub {
    history: VecDeque<Arc<Event>>,
    capacity: usize,
    /// Watches from a resourceVersion below this are answered `410 Expired`.
    floor: u64,
    sender: broadcast::Sender<Message>,
}

impl Hub {
    /// A hub keeping `capacity` events, starting at `revision`.
    pub(crate) fn new(capacity: usize, revision: u64) -> Hub {
        let (sender, _) = broadcast::channel(capacity.clamp(16, 65_536));
        Hub { history: VecDeque::new(), capacity, floor: revision, sender }
    }

    /// Records a request's changes and sends them to open watches.
    pub(crate) fn publish(&mut self, batch: &Batch) {
        for change in &batch.changes {
            let revision =
                change.new.as_deref().map(|object| object.meta().revision).filter(|rv| *rv > 0).unwrap_or(batch.to);
            let event =
                Arc::new(Event { revision, key: change.key.clone(), old: change.old.clone(), new: change.new.clone() });
            if self.capacity > 0 {
                if self.history.len() == self.capacity
                    && let Some(evicted) = self.history.pop_front()
                {
                    self.floor = self.floor.max(evicted.revision);
                }
                self.history.push_back(Arc::clone(&event));
            } else {
                self.floor = self.floor.max(revision);
            }
            // No receiver is not an error: nobody watches.
            let _ = self.sender.send(Message::Event(event));
        }
    }

    /// Ends every open watch with `410 Expired` and forgets the history, so clients re-list.
    pub(crate) fn expire(&mut self, revision: u64) {
        self.history.clear();
        self.floor = revision;
        let _ = self.sender.send(Message::Expire);
    }

    /// How many watches are open.
    pub(crate) fn watchers(&self) -> usize {
        self.sender.receiver_count()
    }
}

/// Which objects a watch sees.
#[derive(Debug)]
struct Filter {
    group: String,
    resource: String,
    namespace: Option<String>,
    /// The object's name, for a watch on a named path (`…/configmaps/NAME?watch=true`).
    name: Option<String>,
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
}

impl Filter {
    fn covers(&self, key: &Key) -> bool {
        key.group == self.group
            && key.resource == self.resource
            && self.namespace.as_deref().is_none_or(|ns| key.namespace == ns)
            && self.name.as_deref().is_none_or(|name| key.name == name)
    }

    fn matches(&self, key: &Key, object: &Stored) -> bool {
        self.labels.as_ref().is_none_or(|s| s.matches_with(|label| object.label(label)))
            && self.fields.as_ref().is_none_or(|s| s.matches_names(&key.name, &key.namespace))
    }

    /// The line this watch sends for `event`, if any.
    fn line(&self, event: &Event) -> Option<Bytes> {
        if !self.covers(&event.key) {
            return None;
        }
        let was = event.old.as_deref().is_some_and(|o| self.matches(&event.key, o));
        let is = event.new.as_deref().is_some_and(|n| self.matches(&event.key, n));
        match (was, is, &event.new, &event.old) {
            (false, true, Some(new), _) => Some(line("ADDED", new.raw())),
            (true, true, Some(new), _) => Some(line("MODIFIED", new.raw())),
            (true, false, _, Some(old)) => {
                // The object as the watcher last saw it, at the revision it went away.
                let mut object = old.value();
                if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                    metadata.insert("resourceVersion".into(), json!(event.revision.to_string()));
                }
                Some(line("DELETED", &object))
            }
            _ => None,
        }
    }
}

/// `{"type":TYPE,"object":OBJECT}` and a newline.
fn line(kind: &str, object: &(impl serde::Serialize + ?Sized)) -> Bytes {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(br#"{"type":""#);
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(br#"","object":"#);
    // Writing a JSON value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn expired_line(message: &str) -> Bytes {
    line(
        "ERROR",
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": "Expired",
            "code": 410,
        }),
    )
}

/// How watches behave.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WatchSettings {
    pub(crate) bookmark_interval: Duration,
    pub(crate) default_timeout: Duration,
}

/// What a watch request asks for, checked.
#[derive(Debug)]
pub(crate) struct WatchRequest {
    filter: Filter,
    kind: String,
    api_version: String,
    from: Option<u64>,
    replay: bool,
    bookmarks: bool,
    initial_events_end: bool,
    timeout: Option<Duration>,
}

impl WatchRequest {
    /// Reads the query of a watch on `(group, resource)` in `namespace` (all when `None`), of
    /// the object `name` only when given (a watch on a named path).
    pub(crate) fn parse(
        query: &Query,
        key: (&str, &str),
        (namespace, name): (Option<&str>, Option<&str>),
        kind: &str,
        api_version: &str,
    ) -> Result<WatchRequest, ApiError> {
        let (labels, fields) = query.selectors()?;
        let from = match query.get("resourceVersion") {
            None | Some("0") => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
                ApiError::BadRequest(format!("invalid resourceVersion {text:?}: not a number this server handed out"))
            })?),
        };
        let send_initial = match query.get("sendInitialEvents") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => return Err(ApiError::BadRequest(format!("invalid sendInitialEvents {other:?}"))),
        };
        let bookmarks = query.flag("allowWatchBookmarks");
        if send_initial == Some(true) && query.get("resourceVersionMatch") != Some("NotOlderThan") {
            return Err(ApiError::BadRequest(
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan".into(),
            ));
        }
        let timeout = match query.get("timeoutSeconds") {
            None => None,
            Some(text) => Some(Duration::from_secs(
                text.parse::<u64>().map_err(|_| ApiError::BadRequest(format!("invalid timeoutSeconds {text:?}")))?,
            )),
        };
        Ok(WatchRequest {
            filter: Filter {
                group: key.0.into(),
                resource: key.1.into(),
                namespace: namespace.map(str::to_owned),
                name: name.map(str::to_owned),
                labels,
                fields,
            },
            kind: kind.into(),
            api_version: api_version.into(),
            from,
            replay: send_initial.unwrap_or(from.is_none()),
            bookmarks,
            initial_events_end: send_initial == Some(true) && bookmarks,
            timeout,
        })
    }

    fn bookmark(&self, revision: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line("BOOKMARK", &json!({"kind": self.kind, "apiVersion": self.api_version, "metadata": metadata}))
    }

    /// Starts the watch: its first lines are computed now, under the caller's lock on `store`
    /// and `hub`, so that no change falls between them and the live stream. Needs a Tokio
    /// runtime, which runs the stream.
    pub(crate) fn start(self, store: &Store, hub: &Hub, settings: WatchSettings) -> Result<ResponseBody, ApiError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| ApiError::Internal("a watch needs a Tokio runtime to stream on".into()))?;
        let revision = store.revision();
        let mut first = Vec::new();
        let mut expired = false;
        if self.replay {
            for (key, object) in store.iter() {
                if self.filter.covers(key) && self.filter.matches(key, object) {
                    first.push(line("ADDED", object.raw()));
                }
            }
            if self.initial_events_end {
                first.push(self.bookmark(revision, true));
            }
        } else if let Some(from) = self.from {
            if from < hub.floor {
                first.push(expired_line(&format!("too old resource version: {from} ({})", hub.floor)));
                expired = true;
            } else {
                first.extend(hub.history.iter().filter(|e| e.revision > from).filter_map(|e| self.filter.line(e)));
            }
        }
        let receiver = hub.sender.subscribe();
        let (sender, body) = mpsc::channel(64);
        let timeout = self.timeout.unwrap_or(settings.default_timeout);
        runtime.spawn(async move {
            for chunk in first {
                if sender.send(chunk).await.is_err() {
                    return;
                }
            }
            if !expired {
                self.stream(receiver, &sender, revision, timeout, settings.bookmark_interval).await;
            }
        });
        Ok(ResponseBody::stream(body))
    }

    async fn stream(
        &self,
        mut receiver: broadcast::Receiver<Message>,
        sender: &mpsc::Sender<Bytes>,
        mut revision: u64,
        timeout: Duration,
        bookmark_interval: Duration,
    ) {
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut bookmarks =
            tokio::time::interval_at(tokio::time::Instant::now() + bookmark_interval, bookmark_interval);
        loop {
            let chunk = tokio::select! {
                () = &mut deadline => return,
                () = sender.closed() => return,
                _ = bookmarks.tick(), if self.bookmarks => self.bookmark(revision, false),
                message = receiver.recv() => match message {
                    Ok(Message::Event(event)) => {
                        revision = revision.max(event.revision);
                        match self.filter.line(&event) {
                            Some(chunk) => chunk,
                            None => continue,
                        }
                    }
                    Ok(Message::Expire) => {
                        let _ = sender.send(expired_line("the watch was expired by the server")).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = sender.send(expired_line("the watcher fell behind the event history")).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            if sender.send(chunk).await.is_err() {
                return;
            }
        }
    }
}

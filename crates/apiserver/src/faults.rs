//! Fault injection and the request log, for tests of clients' retry and idempotence.
//!
//! A [`Fault`] matches requests (by method and path) and acts on some of them: it answers with
//! an error [`Status`](crate::ApiError) (409, 429, 500, …), delays the request, or drops the
//! connection. The [`RequestRecord`] log keeps every request's method, path, query, status and
//! whether it wrote, so a test can assert that "a second sync writes nothing".

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{Value, json};

/// What a [`Fault`] does to a request it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer with this HTTP code and a `Status` body; the request is not carried out. 409 is a
    /// `Conflict`, 429 `TooManyRequests` (with `Retry-After: 1`), 500 `InternalError`, 503
    /// `ServiceUnavailable`, 504 `Timeout`; other codes get a reason derived from the code.
    Respond(u16),
    /// Wait this long, then carry the request out as usual.
    Delay(Duration),
    /// Close the connection without a response (over TCP; the tower `Service` returns an error
    /// instead, which a client sees as a transport failure).
    Drop,
}

/// A fault to inject: which requests it matches, which of those it hits, and what it does.
///
/// ```
/// use gitops_apiserver::{ApiServer, Fault, FaultAction};
///
/// let server = ApiServer::default();
/// // The second PATCH to a ConfigMap answers 500; the others go through.
/// server.inject(Fault::new(FaultAction::Respond(500)).method("PATCH").path_contains("/configmaps/").nth(2));
/// // Every request waits 10 ms.
/// server.inject(Fault::new(FaultAction::Delay(std::time::Duration::from_millis(10))));
/// server.clear_faults();
/// ```
#[derive(Debug, Clone)]
pub struct Fault {
    action: FaultAction,
    method: Option<String>,
    path_contains: Option<String>,
    skip: usize,
    times: Option<usize>,
    seen: usize,
}

impl Fault {
    /// A fault that does `action` to every request, until narrowed.
    pub fn new(action: FaultAction) -> Fault {
        Fault { action, method: None, path_contains: None, skip: 0, times: None, seen: 0 }
    }

    /// Only requests with this HTTP method (`GET`, `PATCH`, …; case does not matter).
    #[must_use]
    pub fn method(mut self, method: &str) -> Fault {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Only requests whose path contains `text` (`/configmaps/`, `/namespaces/team-a/`).
    #[must_use]
    pub fn path_contains(mut self, text: &str) -> Fault {
        self.path_contains = Some(text.to_owned());
        self
    }

    /// Let the first `count` matching requests through.
    #[must_use]
    pub fn after(mut self, count: usize) -> Fault {
        self.skip = count;
        self
    }

    /// Hit at most `count` requests (after the skipped ones), then stop.
    #[must_use]
    pub fn times(mut self, count: usize) -> Fault {
        self.times = Some(count);
        self
    }

    /// Hit only the `n`th matching request, counting from 1.
    #[must_use]
    pub fn nth(self, n: usize) -> Fault {
        self.after(n.saturating_sub(1)).times(1)
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
            && self.path_contains.as_deref().is_none_or(|text| path.contains(text))
    }

    /// Counts a matching request; whether the fault hits it.
    fn hit(&mut self) -> bool {
        self.seen += 1;
        self.seen > self.skip && self.times.is_none_or(|times| self.seen - self.skip <= times)
    }

    fn exhausted(&self) -> bool {
        self.times.is_some_and(|times| self.seen >= self.skip + times)
    }
}

/// The faults in force, in the order they were injected.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    faults: Vec<Fault>,
}

impl Faults {
    pub(crate) fn push(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    /// The actions that hit this request: every delay, then at most one answer or drop (the
    /// first that hits). Faults that will never hit again are forgotten.
    pub(crate) fn actions(&mut self, method: &str, path: &str) -> Vec<FaultAction> {
        let mut actions = Vec::new();
        let mut decided = false;
        for fault in &mut self.faults {
            if !fault.matches(method, path) {
                continue;
            }
            let terminal = !matches!(fault.action, FaultAction::Delay(_));
            if terminal && decided {
                continue;
            }
            if fault.hit() {
                decided |= terminal;
                actions.push(fault.action.clone());
            }
        }
        self.faults.retain(|fault| !fault.exhausted());
        actions.sort_by_key(|action| !matches!(action, FaultAction::Delay(_)));
        actions
    }
}

/// The `Status` body (and reason) an injected error answers with.
pub(crate) fn injected_status(code: u16) -> (Value, &'static str) {
    let reason = match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    };
    let mut details = serde_json::Map::new();
    if code == 429 {
        details.insert("retryAfterSeconds".into(), json!(1));
    }
    let mut status = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": format!("injected fault: {reason} ({code})"),
        "reason": reason,
        "code": code,
    });
    if !details.is_empty() {
        status["details"] = Value::Object(details);
    }
    (status, reason)
}

/// One request the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestRecord {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, empty when there was none.
    pub query: String,
    /// The HTTP status answered; 0 when the connection was dropped by a fault.
    pub status: u16,
    /// Whether the request changed stored state (a dry run or a no-op apply did not).
    pub wrote: bool,
    /// Whether an injected fault answered or dropped the request.
    pub faulted: bool,
}

impl RequestRecord {
    /// The HTTP method and path, such as `PATCH /api/v1/namespaces/default/configmaps/demo`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The last requests, oldest first, at most `capacity` of them.
#[derive(Debug)]
pub(crate) struct RequestLog {
    records: VecDeque<RequestRecord>,
    capacity: usize,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> RequestLog {
        RequestLog { records: VecDeque::new(), capacity }
    }

    pub(crate) fn push(&mut self, record: RequestRecord) {
        if self.capacity == 0 {
            return;
        }
        if self.records.len() == self.capacity {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    pub(crate) fn snapshot(&self) -> Vec<RequestRecord> {
        self.records.iter().cloned().collect()
    }

    pub(crate) fn take(&mut self) -> Vec<RequestRecord> {
        self.records.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_hits_once() {
        let mut faults = Faults::default();
        faults.push(Fault::new(FaultAction::Respond(500)).method("patch").path_contains("/configmaps/").nth(2));
        assert!(faults.actions("PATCH", "/api/v1/namespaces/a/configmaps/x").is_empty());
        assert!(faults.actions("GET", "/api/v1/namespaces/a/configmaps/x").is_empty(), "other methods pass");
        assert_eq!(faults.actions("PATCH", "/api/v1/namespaces/a/configmaps/x"), vec![FaultAction::Respond(500)]);
        assert!(faults.actions("PATCH", "/api/v1/namespaces/a/configmaps/x").is_empty());
        assert!(faults.faults.is_empty(), "an exhausted fault is forgotten");
    }

    #[test]
    fn delays_come_first_and_one_answer_wins() {
        let mut faults = Faults::default();
        faults.push(Fault::new(FaultAction::Respond(429)).times(1));
        faults.push(Fault::new(FaultAction::Drop));
        faults.push(Fault::new(FaultAction::Delay(Duration::from_millis(1))));
        let first = faults.actions("GET", "/api");
        assert_eq!(first, vec![FaultAction::Delay(Duration::from_millis(1)), FaultAction::Respond(429)]);
        assert_eq!(
            faults.actions("GET", "/api"),
            vec![FaultAction::Delay(Duration::from_millis(1)), FaultAction::Drop]
        );
    }

    #[test]
    fn the_log_is_bounded() {
        let mut log = RequestLog::new(2);
        for status in [200, 201, 404] {
            log.push(RequestRecord {
                method: "GET".into(),
                path: "/api".into(),
                query: String::new(),
                status,
                wrote: false,
                faulted: false,
            });
        }
        let statuses: Vec<u16> = log.take().iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![201, 404]);
        assert!(log.snapshot().is_empty());
    }
}

//! Sharding and leader election over `coordination.k8s.io/v1` Leases.
//!
//! Every controller replica runs a [`Membership`]. In [`ShardMode::Sharded`] each replica holds
//! its own Lease (`<group>-<identity>`, labelled `gitops.dev/shard-group=<group>`), renews it
//! every `renew_interval`, lists the group's Leases to find the live replicas, and owns the
//! applications whose name hashes to it by rendezvous hashing ([`owner`]) over the live set.
//! In [`ShardMode::Leader`] the replicas compete for one Lease (`<group>-leader`) and its holder
//! owns every application.
//!
//! **Liveness is judged by observation, not by clocks.** As client-go's leader election does, a
//! replica records, on its own monotonic clock, when it last saw each Lease's `renewTime`
//! change; a Lease that has not changed for its `leaseDurationSeconds` is expired. Clock skew
//! between replicas therefore does not matter, only their clock rates.
//!
//! **No application is reconciled by two replicas at once**, given these rules, which
//! [`ShardView::owns`] applies:
//! - a replica that could not renew its own Lease for `lease_duration - renew_interval` owns
//!   nothing (others may consider it dead soon);
//! - every replica publishes, in its Lease's `gitops.dev/members` annotation, the member list
//!   it works with, and owns nothing while another live member publishes a different list:
//!   when a replica joins, the others must have seen it (and stopped what moves to it, which
//!   the controller does at once, see `ShardView` subscribers) before it starts;
//! - when a replica dies, rendezvous hashing moves only its applications, and only after its
//!   Lease expired.
//!
//! Callers must stop a reconcile as soon as [`ShardView::owns`] turns false for it (the
//! controller drops the reconcile's future), and bound a reconcile's duration below
//! `lease_duration - renew_interval`, so that a replica that stopped renewing stops writing
//! before the others take over.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use tokio::sync::watch;

/// The label every Lease of a shard group carries.
pub const SHARD_GROUP_LABEL: &str = "gitops.dev/shard-group";

/// The annotation in which each replica publishes the member list it currently works with.
pub const MEMBERS_ANNOTATION: &str = "gitops.dev/members";

/// The field manager the Leases are written with.
const FIELD_MANAGER: &str = "gitops-controller";

/// How replicas divide the applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ShardMode {
    /// Every live replica owns a share, by rendezvous hashing of the application name.
    #[default]
    Sharded,
    /// One replica, the holder of the group's leader Lease, owns every application.
    Leader,
}

/// How a [`Membership`] takes part in its group.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ShardOptions {
    /// The namespace of the Leases.
    pub namespace: String,
    /// The group's name: Lease names start with it, and it is the value of [`SHARD_GROUP_LABEL`].
    pub group: String,
    /// This replica's identity (the pod name in a cluster); unique in the group.
    pub identity: String,
    /// How long a Lease lives without renewal (default 15 s, as client-go's default).
    pub lease_duration: Duration,
    /// How often the Lease is renewed and the group listed (default 5 s).
    pub renew_interval: Duration,
    /// Sharded or single leader.
    pub mode: ShardMode,
}

impl ShardOptions {
    /// Options for `identity` in `group`, in namespace `default`, with client-go's timings.
    pub fn new(group: impl Into<String>, identity: impl Into<String>) -> Self {
        ShardOptions {
            namespace: "default".to_owned(),
            group: group.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_interval: Duration::from_secs(5),
            mode: ShardMode::Sharded,
        }
    }

    /// The Leases' namespace.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The lease duration and the renew interval (which should be well under a third of it).
    #[must_use]
    pub fn timing(mut self, lease_duration: Duration, renew_interval: Duration) -> Self {
        self.lease_duration = lease_duration;
        self.renew_interval = renew_interval;
        self
    }

    /// Sharded or single leader.
    #[must_use]
    pub fn mode(mut self, mode: ShardMode) -> Self {
        self.mode = mode;
        self
    }

    fn own_lease(&self) -> String {
        match self.mode {
            ShardMode::Sharded => format!("{}-{}", self.group, self.identity),
            ShardMode::Leader => format!("{}-leader", self.group),
        }
    }
}

/// A failure to read or write the group's Leases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// The API server refused or failed a request about a Lease.
    #[error("Lease {namespace}/{name}: {action} failed")]
    Lease {
        /// The Lease's namespace.
        namespace: String,
        /// The Lease's name (the group's name for a list).
        name: String,
        /// What was attempted.
        action: &'static str,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
}

/// Which applications this replica owns, as of the last renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardView {
    /// This replica's identity.
    pub identity: String,
    /// The live members, sorted (in leader mode, the leader alone).
    pub members: Vec<String>,
    /// Whether this replica may reconcile now: its Lease is fresh and every live member
    /// publishes the same member list.
    pub active: bool,
}

impl ShardView {
    /// The view before the first renewal: no members, owns nothing.
    pub fn empty(identity: impl Into<String>) -> Self {
        ShardView { identity: identity.into(), members: Vec::new(), active: false }
    }

    /// The member that owns `application`, if any member is live.
    pub fn owner(&self, application: &str) -> Option<&str> {
        owner(&self.members, application)
    }

    /// Whether this replica owns `application` and may reconcile it now.
    pub fn owns(&self, application: &str) -> bool {
        self.active && self.owner(application) == Some(self.identity.as_str())
    }
}

/// The member that owns `key` by rendezvous (highest random weight) hashing: each member gets
/// the weight `hash(member, key)` and the heaviest wins. Removing a member moves only its keys;
/// adding one moves to it about `1/(n+1)` of the keys, and only to it. The hash is FNV-1a with a
/// splitmix64 finaliser: stable across builds and platforms, so replicas of different versions
/// agree.
///
/// ```
/// use gitops_reconcile::shard::owner;
/// let members = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
/// let first = owner(&members, "shop").unwrap();
/// // Removing another member never moves the key.
/// let others: Vec<String> = members.iter().filter(|m| *m == first || *m != "a").cloned().collect();
/// assert_eq!(owner(&others, "shop"), Some(first));
/// assert_eq!(owner(&[], "shop"), None);
/// ```
pub fn owner<'m>(members: &'m [String], key: &str) -> Option<&'m str> {
    members.iter().max_by_key(|m| (weight(m, key), m.as_str())).map(String::as_str)
}

fn weight(member: &str, key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in member.bytes().chain([0]).chain(key.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64's finaliser, so that keys differing in their last bytes spread evenly.
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

/// What was last seen of one Lease.
struct Seen {
    renew_time: Option<String>,
    holder: Option<String>,
    changed: Instant,
    duration: Duration,
}

/// One replica's membership in a shard group; see the module docs.
pub struct Membership {
    api: Api<Lease>,
    options: ShardOptions,
    seen: BTreeMap<String, Seen>,
    renewed: Option<Instant>,
    acquired: Option<Timestamp>,
    agreed: bool,
    view: watch::Sender<ShardView>,
}

impl std::fmt::Debug for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership")
            .field("options", &self.options)
            .field("view", &*self.view.borrow())
            .finish_non_exhaustive()
    }
}

impl Membership {
    /// A membership that has not joined yet (the first [`Membership::tick`] joins).
    pub fn new(client: kube::Client, options: ShardOptions) -> Self {
        let api = Api::namespaced(client, &options.namespace);
        let (view, _) = watch::channel(ShardView::empty(options.identity.clone()));
        Membership { api, options, seen: BTreeMap::new(), renewed: None, acquired: None, agreed: false, view }
    }

    /// The options.
    pub fn options(&self) -> &ShardOptions {
        &self.options
    }

    /// The current view, updated by every tick (only changes are sent).
    pub fn subscribe(&self) -> watch::Receiver<ShardView> {
        self.view.subscribe()
    }

    /// The current view.
    pub fn view(&self) -> ShardView {
        self.view.borrow().clone()
    }

    /// Renews this replica's Lease (or tries to acquire the leader Lease), lists the group and
    /// recomputes the view. A failure leaves the replica owning nothing once its Lease may have
    /// expired for the others.
    pub async fn tick(&mut self) -> Result<ShardView, ShardError> {
        let now = Instant::now();
        let result = match self.options.mode {
            ShardMode::Sharded => self.tick_sharded(now).await,
            ShardMode::Leader => self.tick_leader(now).await,
        };
        let members = match &result {
            Ok(members) => members.clone(),
            Err(_) => self.view.borrow().members.clone(),
        };
        let margin = self.options.lease_duration.saturating_sub(self.options.renew_interval);
        let fresh = self.renewed.is_some_and(|at| now.duration_since(at) < margin);
        let settled = match self.options.mode {
            ShardMode::Sharded => self.agreed,
            ShardMode::Leader => true,
        };
        let view =
            ShardView { identity: self.options.identity.clone(), members, active: fresh && settled && result.is_ok() };
        self.view.send_if_modified(|current| {
            let changed = *current != view;
            if changed {
                tracing::info!(identity = %view.identity, members = ?view.members, active = view.active, "shard view changed");
                current.clone_from(&view);
            }
            changed
        });
        result.map(|_| view)
    }

    /// Renews every `renew_interval` until `stop` resolves, then releases the Lease so that
    /// others take over at once instead of after the lease duration.
    pub async fn run(mut self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut every = tokio::time::interval(self.options.renew_interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = every.tick() => {
                    if let Err(error) = self.tick().await {
                        tracing::warn!(error = %error_chain(&error), "shard membership not renewed");
                    }
                }
            }
        }
        if let Err(error) = self.release().await {
            tracing::warn!(error = %error_chain(&error), "shard Lease not released");
        }
    }

    /// Gives up this replica's Lease (deletes it; in leader mode, only while holding it).
    pub async fn release(&mut self) -> Result<(), ShardError> {
        self.view.send_modify(|view| view.active = false);
        let name = self.options.own_lease();
        if self.options.mode == ShardMode::Leader {
            let held = self.seen.get(&name).and_then(|s| s.holder.as_deref()) == Some(self.options.identity.as_str());
            if !held {
                return Ok(());
            }
        }
        match self.api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(source) => Err(self.error(&name, "delete", source)),
        }
    }

    fn error(&self, name: &str, action: &'static str, source: kube::Error) -> ShardError {
        ShardError::Lease { namespace: self.options.namespace.clone(), name: name.to_owned(), action, source }
    }

    fn lease(&self, name: &str, acquire: Option<MicroTime>, resource_version: Option<String>) -> Lease {
        let members = self.view.borrow().members.join(",");
        Lease {
            metadata: ObjectMeta {
                annotations: Some(BTreeMap::from([(MEMBERS_ANNOTATION.to_owned(), members)])),
                name: Some(name.to_owned()),
                namespace: Some(self.options.namespace.clone()),
                labels: Some(BTreeMap::from([(SHARD_GROUP_LABEL.to_owned(), self.options.group.clone())])),
                resource_version,
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.options.identity.clone()),
                lease_duration_seconds: Some(lease_seconds(self.options.lease_duration)),
                acquire_time: acquire,
                renew_time: Some(MicroTime(Timestamp::now())),
                ..LeaseSpec::default()
            }),
        }
    }

    /// Records what a listed Lease says; returns whether it is live.
    fn observe(&mut self, lease: &Lease, now: Instant) -> bool {
        let Some(name) = lease.metadata.name.clone() else { return false };
        let spec = lease.spec.clone().unwrap_or_default();
        let renew_time = spec.renew_time.map(|t| t.0.to_string());
        let duration = Duration::from_secs(u64::try_from(spec.lease_duration_seconds.unwrap_or(15)).unwrap_or(15));
        let holder = spec.holder_identity;
        let seen = self.seen.entry(name).or_insert(Seen { renew_time: None, holder: None, changed: now, duration });
        if seen.renew_time != renew_time || seen.holder != holder {
            *seen = Seen { renew_time, holder, changed: now, duration };
        }
        seen.holder.is_some() && now.duration_since(seen.changed) < seen.duration
    }

    async fn tick_sharded(&mut self, now: Instant) -> Result<Vec<String>, ShardError> {
        let name = self.options.own_lease();
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let acquired = *self.acquired.get_or_insert_with(Timestamp::now);
        let lease = self.lease(&name, Some(MicroTime(acquired)), None);
        self.api.patch(&name, &params, &Patch::Apply(&lease)).await.map_err(|e| self.error(&name, "renew", e))?;
        self.renewed = Some(now);
        let selector = format!("{SHARD_GROUP_LABEL}={}", self.options.group);
        let group = self.options.group.clone();
        let leases =
            self.api.list(&ListParams::default().labels(&selector)).await.map_err(|e| self.error(&group, "list", e))?;
        let mut members = Vec::new();
        let mut published = Vec::new();
        let mut listed = Vec::new();
        for lease in &leases.items {
            listed.extend(lease.metadata.name.clone());
            if self.observe(lease, now)
                && let Some(holder) = lease.spec.as_ref().and_then(|s| s.holder_identity.clone())
            {
                let annotation = lease.metadata.annotations.as_ref().and_then(|a| a.get(MEMBERS_ANNOTATION)).cloned();
                published.push((holder.clone(), annotation.unwrap_or_default()));
                members.push(holder);
            }
        }
        self.seen.retain(|name, _| listed.contains(name));
        if !members.contains(&self.options.identity) {
            members.push(self.options.identity.clone());
        }
        members.sort();
        members.dedup();
        // Work only on a member list every other live member works with too: a replica that
        // has not seen a change yet may still be reconciling what moves.
        let mine = members.join(",");
        self.agreed = published.iter().all(|(holder, theirs)| *holder == self.options.identity || *theirs == mine);
        Ok(members)
    }

    async fn tick_leader(&mut self, now: Instant) -> Result<Vec<String>, ShardError> {
        let name = self.options.own_lease();
        let current = self.api.get_opt(&name).await.map_err(|e| self.error(&name, "get", e))?;
        let me = self.options.identity.clone();
        let written = match current {
            None => {
                let lease = self.lease(&name, Some(MicroTime(Timestamp::now())), None);
                self.api.create(&PostParams::default(), &lease).await
            }
            Some(lease) => {
                let live = self.observe(&lease, now);
                let spec = lease.spec.clone().unwrap_or_default();
                let holder = spec.holder_identity.clone();
                if live && holder.as_deref() != Some(me.as_str()) {
                    return Ok(holder.into_iter().collect());
                }
                // Ours to renew, or expired and ours to take: replace with the resourceVersion
                // read, so that of two replicas taking it at once one gets a conflict.
                let acquire = if holder.as_deref() == Some(me.as_str()) {
                    spec.acquire_time
                } else {
                    Some(MicroTime(Timestamp::now()))
                };
                let lease = self.lease(&name, acquire, lease.metadata.resource_version.clone());
                self.api.replace(&name, &PostParams::default(), &lease).await
            }
        };
        match written {
            Ok(lease) => {
                self.observe(&lease, now);
                self.renewed = Some(now);
                Ok(vec![me])
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {
                // Another replica wrote it first; the next tick sees who.
                self.renewed = None;
                Ok(Vec::new())
            }
            Err(source) => Err(self.error(&name, "acquire", source)),
        }
    }
}

/// A duration in whole seconds, rounded up (a Lease counts in seconds; rounding down would let
/// others declare us dead before we would stop).
fn lease_seconds(duration: Duration) -> i32 {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i32::try_from(seconds.max(1)).unwrap_or(i32::MAX)
}

/// An error and its causes, `: `-separated, for logs.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::owner;

    fn members(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("gitops-controller-{i}")).collect()
    }

    fn keys() -> Vec<String> {
        (0..10_000).map(|i| format!("app-{i}")).collect()
    }

    #[test]
    fn balance_is_within_ten_percent_of_even() {
        for n in [2, 3, 5, 8] {
            let members = members(n);
            let mut counts = std::collections::BTreeMap::<&str, usize>::new();
            for key in keys() {
                *counts.entry(owner(&members, &key).expect("members")).or_default() += 1;
            }
            let even = 10_000 / n;
            assert_eq!(counts.len(), n);
            for (member, count) in counts {
                assert!(count.abs_diff(even) * 10 <= even, "{n} members: {member} owns {count}, even is {even}");
            }
        }
    }

    #[test]
    fn removing_a_member_moves_only_its_keys_and_adding_moves_only_to_it() {
        let all = members(4);
        let without: Vec<String> = all[..3].to_vec();
        let mut moved = 0;
        for key in keys() {
            let before = owner(&without, &key).expect("members");
            let after = owner(&all, &key).expect("members");
            if before != after {
                assert_eq!(after, all[3], "{key} moved between old members");
                moved += 1;
            }
        }
        // About a quarter moves to the new member.
        assert!((2_200..=2_800).contains(&moved), "{moved} keys moved");
    }

    #[test]
    fn owner_is_deterministic_and_independent_of_member_order() {
        let mut members = members(5);
        let first: Vec<String> = keys().iter().map(|k| owner(&members, k).expect("members").to_owned()).collect();
        members.reverse();
        let second: Vec<String> = keys().iter().map(|k| owner(&members, k).expect("members").to_owned()).collect();
        assert_eq!(first, second);
    }
}

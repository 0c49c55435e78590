//! Lease-based membership against the embedded API server: replicas find each other, split the
//! applications, take over a dead replica's share after its Lease expires (at once after a
//! release), and in leader mode exactly one holds the leader Lease.
#![cfg(feature = "kube")]

use std::time::Duration;

use gitops_apiserver::{ApiServer, ApiServerOptions};
use gitops_reconcile::shard::{Membership, ShardMode, ShardOptions, ShardView};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

const LEASE: Duration = Duration::from_secs(1);
const RENEW: Duration = Duration::from_millis(200);

fn member(server: &ApiServer, identity: &str, mode: ShardMode) -> Membership {
    let client = kube::Client::new(server.clone(), "default");
    Membership::new(client, ShardOptions::new("shop", identity).namespace("default").timing(LEASE, RENEW).mode(mode))
}

/// Ticks every member (the stopped ones excluded) until `done` holds of their views, up to 10 s.
async fn tick_until(members: &mut [&mut Membership], done: impl Fn(&[ShardView]) -> bool) -> Vec<ShardView> {
    for _ in 0..100 {
        let mut views = Vec::new();
        for member in members.iter_mut() {
            views.push(member.tick().await.expect("a tick"));
        }
        for app in apps() {
            let owners: Vec<&str> = views.iter().filter(|v| v.owns(&app)).map(|v| v.identity.as_str()).collect();
            assert!(owners.len() <= 1, "{app} has two owners: {owners:?}");
        }
        if done(&views) {
            return views;
        }
        tokio::time::sleep(RENEW).await;
    }
    panic!("the views did not settle");
}

fn apps() -> Vec<String> {
    (0..300).map(|i| format!("app-{i}")).collect()
}

/// Every application has exactly one active owner among `views`.
fn partitioned(views: &[ShardView]) -> bool {
    apps().iter().all(|app| views.iter().filter(|v| v.owns(app)).count() == 1)
}

#[tokio::test]
async fn replicas_split_the_applications_and_take_over_a_dead_ones_share() {
    let server = ApiServer::new(ApiServerOptions::default());
    let (mut a, mut b, mut c) = (
        member(&server, "a", ShardMode::Sharded),
        member(&server, "b", ShardMode::Sharded),
        member(&server, "c", ShardMode::Sharded),
    );

    // Alone, a member owns everything at once.
    let first = a.tick().await.expect("a tick");
    assert_eq!(first.members, ["a"]);
    assert!(apps().iter().all(|app| first.owns(app)));
    // A joining member starts only once the others publish the member list it sees, and the
    // others pause while the lists differ: never two owners.
    let joined = b.tick().await.expect("a tick");
    assert_eq!(joined.members, ["a", "b"]);
    assert!(!joined.active, "a still works with [a]");
    let seen = a.tick().await.expect("a tick");
    assert_eq!(seen.members, ["a", "b"]);
    assert!(!seen.active, "b still publishes []");
    let views = tick_until(&mut [&mut a, &mut b], |v| v.iter().all(|v| v.active)).await;
    assert!(partitioned(&views));

    let views =
        tick_until(&mut [&mut a, &mut b, &mut c], |v| v.iter().all(|v| v.members.len() == 3) && partitioned(v)).await;
    for view in &views {
        let owned = apps().iter().filter(|app| view.owns(app)).count();
        assert!((60..=140).contains(&owned), "{} owns {owned} of 300", view.identity);
    }
    let leases: Api<Lease> = Api::namespaced(kube::Client::new(server.clone(), "default"), "default");
    let listed = leases.list(&kube::api::ListParams::default()).await.expect("a list");
    let mut names: Vec<String> = listed.items.iter().filter_map(|l| l.metadata.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["shop-a", "shop-b", "shop-c"]);

    // c stops renewing (dies): until its Lease expires nobody takes its share; then a and b do,
    // and what a and b owned before does not move.
    let before: Vec<(String, Option<String>)> =
        apps().into_iter().map(|app| (app.clone(), views[0].owner(&app).map(str::to_owned))).collect();
    let now = tick_until(&mut [&mut a, &mut b], |_| true).await;
    let c_apps: Vec<&String> = apps_owned_by(&before, "c");
    assert!(c_apps.iter().all(|app| !now[0].owns(app) && !now[1].owns(app)), "taken over before the Lease expired");
    let started = std::time::Instant::now();
    let after =
        tick_until(&mut [&mut a, &mut b], |v| v.iter().all(|v| v.members == ["a", "b"]) && partitioned(v)).await;
    assert!(started.elapsed() >= LEASE.saturating_sub(2 * RENEW), "taken over after {:?}", started.elapsed());
    for (app, owner) in &before {
        if owner.as_deref() != Some("c") {
            assert_eq!(after[0].owner(app), owner.as_deref(), "{app} moved between live members");
        }
    }

    // A release is seen at once, without waiting for the Lease to expire.
    b.release().await.expect("a release");
    assert!(!b.view().active);
    let started = std::time::Instant::now();
    tick_until(&mut [&mut a], |v| v[0].members == ["a"] && apps().iter().all(|app| v[0].owns(app))).await;
    assert!(started.elapsed() < LEASE, "a release took {:?}", started.elapsed());
}

fn apps_owned_by<'a>(owners: &'a [(String, Option<String>)], member: &str) -> Vec<&'a String> {
    owners.iter().filter(|(_, owner)| owner.as_deref() == Some(member)).map(|(app, _)| app).collect()
}

#[tokio::test]
async fn one_leader_at_a_time_and_a_new_one_after_expiry() {
    let server = ApiServer::new(ApiServerOptions::default());
    let (mut a, mut b) = (member(&server, "a", ShardMode::Leader), member(&server, "b", ShardMode::Leader));
    let views = tick_until(&mut [&mut a, &mut b], |v| v.iter().filter(|v| v.owns("any")).count() == 1).await;
    let leader = if views[0].owns("any") { "a" } else { "b" };
    assert!(views.iter().all(|v| v.members == [leader]), "{views:?}");
    // The leader keeps it while it renews.
    for _ in 0..10 {
        let views = tick_until(&mut [&mut a, &mut b], |_| true).await;
        assert_eq!(views.iter().filter(|v| v.owns("any")).map(|v| v.identity.as_str()).collect::<Vec<_>>(), [leader]);
    }
    // The leader dies; the other takes over after the lease duration.
    let other = if leader == "a" { &mut b } else { &mut a };
    let started = std::time::Instant::now();
    tick_until(&mut [other], |v| v[0].owns("any")).await;
    assert!(started.elapsed() >= LEASE.saturating_sub(2 * RENEW), "taken over after {:?}", started.elapsed());
}

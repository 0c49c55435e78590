//! Integration tests: HTTP-level verbs and errors, a server-side apply table, and real kubectl.

#[path = "apiserver/bad_input.rs"]
mod bad_input;
#[path = "apiserver/common.rs"]
mod common;
#[path = "apiserver/crds.rs"]
mod crds;
#[path = "apiserver/defaulting.rs"]
mod defaulting;
#[path = "apiserver/deletion.rs"]
mod deletion;
#[path = "apiserver/faults.rs"]
mod faults;
#[path = "apiserver/http_verbs.rs"]
mod http_verbs;
#[path = "apiserver/kube_rs.rs"]
mod kube_rs;
#[path = "apiserver/kubectl.rs"]
mod kubectl;
#[path = "apiserver/kubectl_more.rs"]
mod kubectl_more;
#[path = "apiserver/persistence.rs"]
mod persistence;
#[path = "apiserver/simulation.rs"]
mod simulation;
#[path = "apiserver/ssa_table.rs"]
mod ssa_table;
#[path = "apiserver/ssa_table_more.rs"]
mod ssa_table_more;
#[path = "apiserver/subresources.rs"]
mod subresources;
#[path = "apiserver/tables.rs"]
mod tables;
#[path = "apiserver/watch.rs"]
mod watch;

//! Integration tests: HTTP-level verbs and errors, a server-side apply table, and real kubectl.

#[path = "apiserver/common.rs"]
mod common;
#[path = "apiserver/http_verbs.rs"]
mod http_verbs;
#[path = "apiserver/kubectl.rs"]
mod kubectl;
#[path = "apiserver/ssa_table.rs"]
mod ssa_table;

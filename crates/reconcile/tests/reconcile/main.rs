//! The reconciler end to end: real Git repositories (and a `git daemon`), the embedded API
//! server as the cluster.

mod harness;
mod looping;
mod once;

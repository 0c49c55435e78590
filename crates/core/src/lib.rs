//! The shared vocabulary of gitops-rs: objects and their identities, manifests and where they came
//! from, multi-document YAML in and out, read-only file trees, and the words every stage of the
//! pipeline uses (`Revision`, `Inventory`, `Action`, `Health`, `Change`).
//!
//! This crate does no I/O beyond [`DiskTree`], and depends on no Git, HTTP or async runtime, so any
//! tool can build on it.
//!
//! # Overview
//!
//! - [`Object`] is a Kubernetes-style object over a `serde_json` map (key order kept), with typed
//!   accessors. [`ObjectRef`] is its identity — group, kind, namespace, name, *not* version —
//!   with a total order and the display form `Kind/namespace/name` used in every message.
//! - [`Manifest`] pairs an object with its [`Origin`] (file, document, line); a [`ManifestSet`]
//!   keeps manifests in render order and refuses duplicates, naming both origins.
//! - [`yaml`] reads YAML streams with the Go tools' scalar rules and a resource budget, and emits
//!   YAML byte-identical to `kubectl kustomize`.
//! - [`schema::Schema`] is the Kubernetes schema table (list types, merge keys, map types, scope),
//!   generated from the upstream OpenAPI definitions and extended at run time by CRDs; strategic
//!   merge, the diff and the API server all read it.
//! - [`patch`] is strategic merge patch over JSON values, as the API machinery applies it and as
//!   Kustomize applies it (their measured differences are an option).
//! - [`tree::FileTree`] is how renderers read files; [`DiskTree`] reads a folder and refuses paths
//!   that escape it.
//!
//! # Example
//!
//! ```
//! use gitops_core::{parse_manifests, ManifestSet, yaml};
//!
//! let text = "\
//! apiVersion: v1
//! kind: ConfigMap
//! metadata:
//!   name: settings
//!   namespace: shop
//! data:
//!   mode: on
//! ";
//! let set = ManifestSet::from_manifests(parse_manifests(text, "cm.yaml", &yaml::ReadOptions::default())?)?;
//! let cm = set.iter().next().expect("one manifest");
//! assert_eq!(cm.object_ref().to_string(), "ConfigMap/shop/settings");
//! assert_eq!(cm.origin.to_string(), "cm.yaml:1");
//! // Kustomize reads `on` as a string and prints it quoted, so YAML 1.1 readers keep it a string.
//! let out = yaml::to_string(&cm.object.to_value(), &yaml::EmitOptions::default());
//! assert!(out.contains("  mode: \"on\"\n"));
//! # Ok::<(), gitops_core::ManifestError>(())
//! ```
//!
//! # Features
//!
//! - `kube`: `TryFrom` conversions between [`Object`] and `kube_core::DynamicObject`.

#![deny(missing_docs)]

mod change;
mod gvk;
mod health;
mod inventory;
#[cfg(feature = "kube")]
mod kube;
mod manifest;
mod object;
mod object_ref;
pub mod patch;
mod revision;
pub mod schema;
mod scope;
pub mod selector;
pub mod time;
pub mod tree;
pub mod yaml;

pub use change::{Action, Change, ChangeSet};
pub use gvk::{Gvk, split_api_version};
pub use health::Health;
pub use inventory::{Inventory, InventoryEntry};
#[cfg(feature = "kube")]
pub use kube::ConversionError;
pub use manifest::{Manifest, ManifestError, ManifestSet, Origin, parse_manifest_bytes, parse_manifests};
pub use object::{Object, ObjectError};
pub use object_ref::ObjectRef;
pub use revision::{Revision, Signature};
pub use scope::is_cluster_scoped;
pub use tree::{DiskTree, FileTree};

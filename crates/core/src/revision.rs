//! `Revision`: an exact point in a source's history.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A person and time recorded on a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    /// Offset from UTC, in seconds.
    pub offset: i32,
}

/// An exact revision of a source: the commit, and the reference it was resolved from.
///
/// `Display` follows Flux: `main@sha1:<hex>` for a reference, `sha1:<hex>` for a bare commit.
///
/// ```
/// use gitops_core::Revision;
/// let rev = Revision::new(Some("main"), "0123456789abcdef0123456789abcdef01234567");
/// assert_eq!(rev.to_string(), "main@sha1:0123456789abcdef0123456789abcdef01234567");
/// assert_eq!(rev.short_id(), "0123456");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// The reference it was resolved from (`main`, `v1.2.0`, `refs/pull/1/head`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The commit id, in lowercase hex.
    pub commit: String,
    /// The author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Signature>,
    /// The committer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committer: Option<Signature>,
    /// The commit message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Revision {
    /// A revision with no commit metadata.
    pub fn new(reference: Option<&str>, commit: impl Into<String>) -> Self {
        Revision {
            reference: reference.map(str::to_owned),
            commit: commit.into(),
            author: None,
            committer: None,
            message: None,
        }
    }

    /// The hash algorithm, from the id's length: `sha256` for 64 hex digits, else `sha1`.
    pub fn algorithm(&self) -> &'static str {
        if self.commit.len() == 64 { "sha256" } else { "sha1" }
    }

    /// The first 7 hex digits of the commit.
    pub fn short_id(&self) -> &str {
        self.commit.get(..7).unwrap_or(&self.commit)
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(reference) = &self.reference {
            write!(f, "{reference}@")?;
        }
        write!(f, "{}:{}", self.algorithm(), self.commit)
    }
}

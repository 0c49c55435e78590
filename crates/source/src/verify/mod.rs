//! Commit and tag signature verification, as Flux's `GitRepository` `spec.verify` does it, in
//! process: OpenPGP signatures with [rPGP](https://github.com/rpgp/rpgp) and SSH signatures
//! (`SSHSIG`, namespace `git`) with the RustCrypto `ssh-key` crate. Neither `gpg` nor
//! `ssh-keygen` runs.
//!
//! What is signed is what Git signs: a commit object without its `gpgsig` header, and a tag
//! object up to the signature appended to its message. A signature passes only when it was made
//! by a key in the caller's [`Keyring`] and verifies over those exact bytes; anything else (no
//! signature, a key not in the keyring, a signature over other bytes, a signature that cannot
//! be read) is an error naming the object, the key and the reason.

mod keyring;

use std::fmt;
use std::str::FromStr;

use gitops_core::Revision;
use pgp::composed::{Deserializable as _, DetachedSignature};
use pgp::types::{KeyDetails as _, VerifyingKey};

pub use keyring::{Keyring, KeyringError};

use crate::repository::{GitError, Repository};

/// The namespace Git signs commits and tags in with SSH keys (`ssh-keygen -Y sign -n git`).
const SSH_NAMESPACE: &str = "git";

/// What [`Repository::verify`] checks, as Flux's `spec.verify.mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerifyMode {
    /// The commit the revision resolves to (Flux `HEAD`).
    #[default]
    Head,
    /// The annotated tag the revision was named by (Flux `Tag`); the revision must be a tag.
    Tag,
    /// Both the annotated tag and the commit it points to (Flux `TagAndHEAD`).
    TagAndHead,
}

impl FromStr for VerifyMode {
    type Err = String;

    /// Reads `head`, `tag`, `tag-and-head` (and Flux's spellings `HEAD`, `Tag`, `TagAndHEAD`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let key: String = text.chars().filter(|c| !matches!(c, '-' | '_')).collect::<String>().to_ascii_lowercase();
        match key.as_str() {
            "head" => Ok(VerifyMode::Head),
            "tag" => Ok(VerifyMode::Tag),
            "tagandhead" => Ok(VerifyMode::TagAndHead),
            _ => Err(format!("unknown verification mode {text:?}; expected head, tag or tag-and-head")),
        }
    }
}

impl fmt::Display for VerifyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerifyMode::Head => "head",
            VerifyMode::Tag => "tag",
            VerifyMode::TagAndHead => "tag-and-head",
        })
    }
}

/// The kind of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureFormat {
    /// An OpenPGP signature (`-----BEGIN PGP SIGNATURE-----`).
    OpenPgp,
    /// An SSH signature (`-----BEGIN SSH SIGNATURE-----`).
    Ssh,
}

impl fmt::Display for SignatureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureFormat::OpenPgp => "OpenPGP",
            SignatureFormat::Ssh => "SSH",
        })
    }
}

/// A signed Git object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignedObject {
    /// A commit, by id.
    Commit {
        /// The commit id (hex).
        id: String,
    },
    /// An annotated tag, by name and tag object id.
    Tag {
        /// The tag's short name (`v1.0.0`).
        name: String,
        /// The tag object's id (hex).
        id: String,
    },
}

impl fmt::Display for SignedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignedObject::Commit { id } => write!(f, "commit {id}"),
            SignedObject::Tag { name, id } => write!(f, "tag {name} ({id})"),
        }
    }
}

/// A signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// What was signed.
    pub object: SignedObject,
    /// The kind of signature.
    pub format: SignatureFormat,
    /// The fingerprint of the key that signed: upper-case hex for OpenPGP (the primary key's,
    /// also when a subkey signed), `SHA256:…` for SSH.
    pub key: String,
    /// Who the key belongs to: the OpenPGP key's first user id, or the SSH key's comment.
    pub signer: Option<String>,
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: good {} signature by key {}", self.object, self.format, self.key)?;
        match &self.signer {
            Some(signer) => write!(f, " ({signer})"),
            None => Ok(()),
        }
    }
}

impl Repository {
    /// Verifies the signatures `mode` asks for on `revision` against `keyring`, and returns
    /// them (tag first). Nothing should be read from a revision that fails.
    ///
    /// [`VerifyMode::Tag`] and [`VerifyMode::TagAndHead`] need a revision named by an annotated
    /// tag (a tag name, `refs/tags/…`, or a semver range); anything else is a
    /// [`VerifyError::Tag`], never a silent pass. An empty keyring is an error.
    pub fn verify(
        &self,
        revision: &Revision,
        keyring: &Keyring,
        mode: VerifyMode,
    ) -> Result<Vec<Verified>, VerifyError> {
        if keyring.is_empty() {
            return Err(VerifyError::EmptyKeyring);
        }
        let mut verified = Vec::new();
        if matches!(mode, VerifyMode::Tag | VerifyMode::TagAndHead) {
            let Some(name) = &revision.reference else {
                return Err(VerifyError::Tag {
                    revision: revision.to_string(),
                    reason: "it was not named by a tag, so there is no tag signature to verify".into(),
                });
            };
            let (tag, commit) = self.verify_tag(name, keyring)?;
            if commit != revision.commit {
                return Err(VerifyError::Tag {
                    revision: revision.to_string(),
                    reason: format!("tag {name} now points to {commit}"),
                });
            }
            verified.push(tag);
        }
        if matches!(mode, VerifyMode::Head | VerifyMode::TagAndHead) {
            verified.push(self.verify_commit(&revision.commit, keyring)?);
        }
        Ok(verified)
    }

    /// Verifies the signature of the commit `id` (full hex) against `keyring`.
    pub fn verify_commit(&self, id: &str, keyring: &Keyring) -> Result<Verified, VerifyError> {
        let object = SignedObject::Commit { id: id.to_owned() };
        let repo = self.local();
        let read = |source: GitError| VerifyError::Read { object: object.to_string(), source };
        let oid = gix::ObjectId::from_hex(id.as_bytes()).map_err(|e| read(e.into()))?;
        let commit = repo.find_object(oid).map_err(|e| read(e.into()))?;
        if commit.kind != gix::objs::Kind::Commit {
            return Err(read(format!("it is a {}", commit.kind).into()));
        }
        let found = gix::objs::CommitRefIter::signature(&commit.data, repo.object_hash())
            .map_err(|e| VerifyError::Malformed { object: object.clone(), reason: e.to_string() })?;
        let Some((signature, signed)) = found else {
            return Err(VerifyError::Unsigned { object });
        };
        check(object, signature.as_ref(), &signed.to_bstring(), keyring)
    }

    /// Verifies the annotated tag `name` (`v1.0.0` or `refs/tags/v1.0.0`) against `keyring`, and
    /// returns the verified signature with the commit the tag points to.
    pub fn verify_tag(&self, name: &str, keyring: &Keyring) -> Result<(Verified, String), VerifyError> {
        let repo = self.local();
        let not_a_tag = |reason: String| VerifyError::Tag { revision: name.to_owned(), reason };
        let read = |source: GitError| VerifyError::Read { object: format!("tag {name}"), source };
        let reference = crate::resolve::find_reference(&repo, name)
            .map_err(|e| read(e.into()))?
            .ok_or_else(|| not_a_tag("no such tag".into()))?;
        let full = reference.name().as_bstr().to_string();
        let Some(short) = full.strip_prefix("refs/tags/") else {
            return Err(not_a_tag(format!("{full} is not a tag")));
        };
        let Some(id) = reference.target().try_id().map(ToOwned::to_owned) else {
            return Err(not_a_tag(format!("{full} is a symbolic reference")));
        };
        let tag = repo.find_object(id).map_err(|e| read(e.into()))?;
        if tag.kind != gix::objs::Kind::Tag {
            return Err(not_a_tag(format!("{full} is a lightweight tag, which cannot be signed")));
        }
        let object = SignedObject::Tag { name: short.to_owned(), id: id.to_hex().to_string() };
        let Some((signature, signed)) = gix::objs::TagRefIter::signature(&tag.data) else {
            return Err(VerifyError::Unsigned { object });
        };
        let verified = check(object, signature.data.as_ref(), &signed.to_bstring(), keyring)?;
        let commit = tag.peel_tags_to_end().map_err(|e| read(e.into()))?;
        if commit.kind != gix::objs::Kind::Commit {
            return Err(not_a_tag(format!("{full} does not point to a commit")));
        }
        Ok((verified, commit.id.to_hex().to_string()))
    }
}

/// Checks `signature` (armored) over `signed` against `keyring`.
fn check(object: SignedObject, signature: &[u8], signed: &[u8], keyring: &Keyring) -> Result<Verified, VerifyError> {
    if signature.starts_with(b"-----BEGIN PGP SIGNATURE-----") {
        check_pgp(object, signature, signed, keyring)
    } else if signature.starts_with(b"-----BEGIN SSH SIGNATURE-----") {
        check_ssh(object, signature, signed, keyring)
    } else {
        let first = String::from_utf8_lossy(signature.split(|b| *b == b'\n').next().unwrap_or_default()).into_owned();
        Err(VerifyError::Unsupported { object, format: first })
    }
}

fn check_pgp(
    object: SignedObject,
    signature: &[u8],
    signed: &[u8],
    keyring: &Keyring,
) -> Result<Verified, VerifyError> {
    let format = SignatureFormat::OpenPgp;
    let malformed = |reason: String| VerifyError::Malformed { object: object.clone(), reason };
    let (signature, _) = DetachedSignature::from_armor_single(signature)
        .map_err(|e| malformed(format!("not an OpenPGP signature: {e}")))?;
    let signature = signature.signature;
    let issuers = Issuers {
        fingerprints: signature.issuer_fingerprint().iter().map(|f| format!("{f:X}")).collect(),
        key_ids: signature.issuer_key_id().iter().map(|k| k.to_string().to_uppercase()).collect(),
    };
    let mut failure = None;
    for key in &keyring.pgp {
        let primary = format!("{:X}", key.fingerprint());
        let attempts = std::iter::once(issuers.try_key(&signature, key, signed))
            .chain(key.public_subkeys.iter().map(|subkey| issuers.try_key(&signature, subkey, signed)));
        for attempt in attempts.flatten() {
            match attempt {
                Ok(()) => {
                    let signer = key.details.users.first().map(|u| String::from_utf8_lossy(u.id.id()).into_owned());
                    return Ok(Verified { object, format, key: primary, signer });
                }
                Err(reason) => {
                    failure.get_or_insert((primary.clone(), reason));
                }
            }
        }
    }
    if let Some((key, reason)) = failure {
        return Err(VerifyError::BadSignature { object, format, key, reason });
    }
    let key = match (issuers.fingerprints.first(), issuers.key_ids.first()) {
        (Some(fingerprint), _) => fingerprint.clone(),
        (None, Some(key_id)) => format!("id {key_id}"),
        (None, None) => "(no issuer in the signature)".to_owned(),
    };
    Err(VerifyError::UnknownKey { object, format, key })
}

/// The keys an OpenPGP signature says made it (issuer fingerprint and key id subpackets).
struct Issuers {
    fingerprints: Vec<String>,
    key_ids: Vec<String>,
}

impl Issuers {
    /// Verifies an OpenPGP data signature (binary or text, as Git makes them) with `key`, or
    /// `None` when the signature names other keys as its issuer.
    fn try_key<K: VerifyingKey>(
        &self,
        signature: &pgp::packet::Signature,
        key: &K,
        signed: &[u8],
    ) -> Option<Result<(), String>> {
        use pgp::packet::SignatureType;
        let fingerprint = format!("{:X}", key.fingerprint());
        let key_id = key.legacy_key_id().to_string().to_uppercase();
        let named = (self.fingerprints.is_empty() && self.key_ids.is_empty())
            || self.fingerprints.contains(&fingerprint)
            || self.key_ids.contains(&key_id);
        if !named {
            return None;
        }
        Some(match signature.typ() {
            Some(SignatureType::Binary | SignatureType::Text) => {
                signature.verify(key, signed).map_err(|e| e.to_string())
            }
            other => Err(format!("a signature of type {other:?} is not a data signature")),
        })
    }
}

fn check_ssh(
    object: SignedObject,
    signature: &[u8],
    signed: &[u8],
    keyring: &Keyring,
) -> Result<Verified, VerifyError> {
    let format = SignatureFormat::Ssh;
    let signature = ssh_key::SshSig::from_pem(signature)
        .map_err(|e| VerifyError::Malformed { object: object.clone(), reason: format!("not an SSH signature: {e}") })?;
    let key = signature.public_key().fingerprint(ssh_key::HashAlg::Sha256).to_string();
    let Some(trusted) = keyring.ssh.iter().find(|k| k.key_data() == signature.public_key()) else {
        return Err(VerifyError::UnknownKey { object, format, key });
    };
    if signature.namespace() != SSH_NAMESPACE {
        let reason = format!("it was made for namespace {:?}, not {SSH_NAMESPACE:?}", signature.namespace());
        return Err(VerifyError::BadSignature { object, format, key, reason });
    }
    if let Err(e) = trusted.verify(SSH_NAMESPACE, signed, &signature) {
        return Err(VerifyError::BadSignature { object, format, key, reason: e.to_string() });
    }
    let signer = Some(trusted.comment().to_owned()).filter(|c| !c.is_empty());
    Ok(Verified { object, format, key, signer })
}

/// Why a revision's signature was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Verification was asked for with no key to verify against.
    #[error("signature verification needs at least one key")]
    EmptyKeyring,
    /// The object carries no signature.
    #[error("{object}: not signed")]
    Unsigned {
        /// The commit or tag.
        object: SignedObject,
    },
    /// The signature was made by a key that is not in the keyring.
    #[error("{object}: signed with {format} key {key}, which is not in the keyring")]
    UnknownKey {
        /// The commit or tag.
        object: SignedObject,
        /// The kind of signature.
        format: SignatureFormat,
        /// The signing key's fingerprint (or OpenPGP key id) as the signature names it.
        key: String,
    },
    /// A key in the keyring made the signature, but it does not verify over the object: the
    /// object was changed after it was signed, or the signature was.
    #[error("{object}: the {format} signature by key {key} does not verify: {reason}")]
    BadSignature {
        /// The commit or tag.
        object: SignedObject,
        /// The kind of signature.
        format: SignatureFormat,
        /// The key's fingerprint.
        key: String,
        /// Why it does not verify.
        reason: String,
    },
    /// The signature cannot be read.
    #[error("{object}: unreadable signature: {reason}")]
    Malformed {
        /// The commit or tag.
        object: SignedObject,
        /// What is wrong.
        reason: String,
    },
    /// A signature of a kind this crate does not verify (X.509).
    #[error("{object}: unsupported signature ({format})")]
    Unsupported {
        /// The commit or tag.
        object: SignedObject,
        /// The signature's first line.
        format: String,
    },
    /// A tag signature was asked for, but the revision has no annotated tag to check.
    #[error("cannot verify the tag of {revision}: {reason}")]
    Tag {
        /// The revision or tag name.
        revision: String,
        /// Why.
        reason: String,
    },
    /// The object could not be read from the repository.
    #[error("cannot read {object}")]
    Read {
        /// The object.
        object: String,
        /// The cause.
        #[source]
        source: GitError,
    },
}

//! The keys a caller trusts: OpenPGP public keys (armored) and SSH public keys (`authorized_keys`
//! or `allowed_signers` lines).

use std::fmt;
use std::path::Path;

use pgp::composed::{Deserializable as _, SignedPublicKey};
use pgp::types::KeyDetails as _;

/// The public keys signatures are checked against.
///
/// Two kinds of keys go in, from text or files ([`Keyring::add_file`] tells them apart):
///
/// - OpenPGP public keys in ASCII armor (`gpg --export --armor`), one or more blocks, each with
///   one or more keys. The primary key and its signing subkeys are trusted. A key whose
///   self-signatures do not verify, or that carries a revocation signature, is refused when it
///   is added.
/// - SSH public keys, one per line, in `authorized_keys` form (`[options] ssh-ed25519 AAAA… comment`)
///   or `allowed_signers` form (`principals [options] ssh-ed25519 AAAA…`). Empty lines and `#`
///   comments are skipped. An `allowed_signers` line whose `namespaces="…"` option does not list
///   `git` is not trusted for Git signatures, as `ssh-keygen -Y verify` would have it.
#[derive(Clone, Default)]
pub struct Keyring {
    pub(crate) pgp: Vec<SignedPublicKey>,
    pub(crate) ssh: Vec<ssh_key::PublicKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring").field("pgp", &self.pgp_fingerprints()).field("ssh", &self.ssh_fingerprints()).finish()
    }
}

impl Keyring {
    /// An empty keyring, which trusts nothing.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Whether no key was added.
    pub fn is_empty(&self) -> bool {
        self.pgp.is_empty() && self.ssh.is_empty()
    }

    /// How many keys it holds (OpenPGP primary keys and SSH keys).
    pub fn len(&self) -> usize {
        self.pgp.len() + self.ssh.len()
    }

    /// Adds the keys in the file at `path`: armored OpenPGP keys if it holds a
    /// `-----BEGIN PGP PUBLIC KEY BLOCK-----`, SSH key lines otherwise.
    pub fn add_file(&mut self, path: impl AsRef<Path>) -> Result<usize, KeyringError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| KeyringError {
            origin: path.display().to_string(),
            line: None,
            reason: e.to_string(),
        })?;
        self.add_text(&text, &path.display().to_string())
    }

    /// Adds the keys in `text` (see [`Keyring::add_file`]); `origin` names the text in errors.
    /// Returns how many keys were added; text without any key is an error.
    pub fn add_text(&mut self, text: &str, origin: &str) -> Result<usize, KeyringError> {
        let added =
            if text.contains(PGP_KEY_BLOCK) { self.add_pgp(text, origin)? } else { self.add_ssh(text, origin)? };
        if added == 0 {
            return Err(KeyringError { origin: origin.to_owned(), line: None, reason: "no public key in it".into() });
        }
        Ok(added)
    }

    /// The fingerprints of the OpenPGP primary keys, upper-case hex.
    pub fn pgp_fingerprints(&self) -> Vec<String> {
        self.pgp.iter().map(|k| format!("{:X}", k.fingerprint())).collect()
    }

    /// The SHA-256 fingerprints of the SSH keys (`SHA256:…`).
    pub fn ssh_fingerprints(&self) -> Vec<String> {
        self.ssh.iter().map(|k| k.fingerprint(ssh_key::HashAlg::Sha256).to_string()).collect()
    }

    fn add_pgp(&mut self, text: &str, origin: &str) -> Result<usize, KeyringError> {
        let error = |reason: String| KeyringError { origin: origin.to_owned(), line: None, reason };
        let mut added = 0;
        // One armor block after another; `from_armor_many` reads every key of one block.
        for block in text.split(PGP_KEY_BLOCK).skip(1) {
            let armored = format!("{PGP_KEY_BLOCK}{block}");
            let (keys, _) = SignedPublicKey::from_armor_many(armored.as_bytes())
                .map_err(|e| error(format!("not an OpenPGP public key block: {e}")))?;
            for key in keys {
                let key = key.map_err(|e| error(format!("not an OpenPGP public key: {e}")))?;
                let fingerprint = format!("{:X}", key.fingerprint());
                key.verify_bindings()
                    .map_err(|e| error(format!("OpenPGP key {fingerprint}: its self-signatures do not verify: {e}")))?;
                if !key.details.revocation_signatures.is_empty() {
                    return Err(error(format!("OpenPGP key {fingerprint} is revoked")));
                }
                self.pgp.push(key);
                added += 1;
            }
        }
        Ok(added)
    }

    fn add_ssh(&mut self, text: &str, origin: &str) -> Result<usize, KeyringError> {
        let mut added = 0;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |reason: String| KeyringError { origin: origin.to_owned(), line: Some(index + 1), reason };
            let (before, key) = ssh_key_in_line(line).ok_or_else(|| {
                error("not an SSH public key line (authorized_keys or allowed_signers form)".to_owned())
            })?;
            if let Some(namespaces) = option_value(before, "namespaces")
                && !namespaces.split(',').any(|n| n.trim() == "git")
            {
                tracing::debug!(origin, line = index + 1, namespaces, "SSH key not allowed for the git namespace");
                continue;
            }
            self.ssh.push(key);
            added += 1;
        }
        Ok(added)
    }
}

const PGP_KEY_BLOCK: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";

/// Finds the key in an `authorized_keys` or `allowed_signers` line: the first word from which the
/// rest parses as an OpenSSH public key. Returns what precedes it (principals and options) too.
fn ssh_key_in_line(line: &str) -> Option<(&str, ssh_key::PublicKey)> {
    let mut start = 0;
    loop {
        let rest = &line[start..];
        if let Ok(key) = ssh_key::PublicKey::from_openssh(rest) {
            return Some((&line[..start], key));
        }
        // Skip one word (a quoted option value may hold spaces).
        let mut quoted = false;
        let mut end = None;
        for (i, c) in rest.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ' ' | '\t' if !quoted => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end?;
        start += end + rest[end..].len() - rest[end..].trim_start().len();
    }
}

/// The value of `name="value"` (or `name=value`) among comma-separated options.
fn option_value<'a>(options: &'a str, name: &str) -> Option<&'a str> {
    let at = options.find(&format!("{name}="))?;
    let value = &options[at + name.len() + 1..];
    match value.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next(),
        None => value.split([',', ' ']).next(),
    }
}

/// A key file or text that cannot be read as keys.
#[derive(Debug, thiserror::Error)]
#[error("keys {origin}{}: {reason}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct KeyringError {
    /// The file (or the name the caller gave the text).
    pub origin: String,
    /// The line, for SSH key lines.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEGd/oBEDDxDx6vKlaZHYvSnCTd1GP1JbFIg+oCyIJaz";

    #[test]
    fn ssh_lines_in_both_forms() {
        let mut keyring = Keyring::new();
        let text = format!(
            "# comment\n\n{ED25519} ada@laptop\nada@example.com {ED25519}\n\
             ada@example.com namespaces=\"git,file\" {ED25519}\n\
             no-pty,command=\"echo a b\" {ED25519} c\n"
        );
        assert_eq!(keyring.add_text(&text, "keys").expect("keys"), 4);
        assert_eq!(keyring.ssh_fingerprints()[0], "SHA256:JxdIsFPHGpuRy2UH7KxUG5g2KaWWuf3YPd/C2oeXFrM".to_owned());
    }

    #[test]
    fn namespaces_without_git_are_not_trusted() {
        let mut keyring = Keyring::new();
        let text = format!("a@b namespaces=\"file\" {ED25519}\n{ED25519}\n");
        assert_eq!(keyring.add_text(&text, "keys").expect("keys"), 1);
    }

    #[test]
    fn garbage_names_the_line() {
        let mut keyring = Keyring::new();
        let err = keyring.add_text(&format!("{ED25519}\nnot a key\n"), "allowed_signers").expect_err("garbage");
        assert_eq!(
            err.to_string(),
            "keys allowed_signers line 2: not an SSH public key line (authorized_keys or allowed_signers form)"
        );
        let err = Keyring::new().add_text("# nothing\n", "empty").expect_err("empty");
        assert_eq!(err.to_string(), "keys empty: no public key in it");
    }
}

//! Signature verification against commits and tags signed by the real `git`, with throwaway
//! keys: OpenPGP keys made by `gpg` in a temporary `GNUPGHOME`, SSH keys made by `ssh-keygen`
//! (`gpg.format=ssh`). Skipped, with a notice, when `gpg` or `ssh-keygen` is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use gitops_source::{Keyring, Reference, Repository, SignatureFormat, SignedObject, VerifyError, VerifyMode};
use tempfile::TempDir;

/// A repository, a GnuPG home with two keys (`ada`, trusted, and `eve`, not), and two SSH keys
/// (the same split).
struct Signing {
    dir: TempDir,
}

impl Signing {
    /// `None` (after printing why) when `gpg` or `ssh-keygen` is not installed.
    fn new() -> Option<Signing> {
        for tool in ["gpg", "ssh-keygen"] {
            if Command::new(tool).arg("--version").output().is_err() {
                eprintln!("NOTICE: {tool} is not installed; signature verification tests skipped");
                return None;
            }
        }
        let signing = Signing { dir: tempfile::tempdir().expect("tempdir") };
        let home = signing.gnupg_home();
        std::fs::create_dir_all(&home).expect("gnupg home");
        std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("chmod");
        for who in ["Ada <ada@example.com>", "Eve <eve@example.com>"] {
            signing.gpg(&[
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--quick-gen-key",
                who,
                "ed25519",
                "sign",
                "0",
            ]);
        }
        for name in ["ada", "eve"] {
            let key = signing.dir.path().join(format!("{name}_ssh"));
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C"])
                .arg(format!("{name}@laptop"))
                .arg("-f")
                .arg(&key));
        }
        signing.git(&["init", "-q", "repo"]);
        Some(signing)
    }

    fn gnupg_home(&self) -> PathBuf {
        self.dir.path().join("gnupg")
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn gpg(&self, args: &[&str]) -> String {
        run(Command::new("gpg").arg("--batch").args(args).env("GNUPGHOME", self.gnupg_home()))
    }

    /// The fingerprint of `email`'s primary key.
    fn fingerprint(&self, email: &str) -> String {
        let listing = self.gpg(&["--with-colons", "--list-keys", email]);
        listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:").map(|rest| rest.trim_matches(':').to_owned()))
            .expect("a fingerprint")
    }

    /// `email`'s armored public key.
    fn pgp_public_key(&self, email: &str) -> String {
        self.gpg(&["--armor", "--export", email])
    }

    fn ssh_key(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}_ssh"))
    }

    fn ssh_public_key(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}_ssh.pub"))).expect("public key")
    }

    fn ssh_fingerprint(&self, name: &str) -> String {
        let out = run(Command::new("ssh-keygen").arg("-lf").arg(self.dir.path().join(format!("{name}_ssh.pub"))));
        out.split_whitespace().nth(1).expect("fingerprint").to_owned()
    }

    fn git(&self, args: &[&str]) -> String {
        let cwd = if self.repo().exists() { self.repo() } else { self.dir.path().to_owned() };
        run(Command::new("git")
            .args(["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .current_dir(cwd)
            .env("GNUPGHOME", self.gnupg_home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com"))
    }

    /// The `-c` options that make `git commit -S` / `git tag -s` sign with `key`.
    fn signer(&self, key: &Signer) -> Vec<String> {
        match key {
            Signer::Pgp(email) => vec!["-c".into(), format!("user.signingkey={}", self.fingerprint(email))],
            Signer::Ssh(name) => vec![
                "-c".into(),
                "gpg.format=ssh".into(),
                "-c".into(),
                format!("user.signingkey={}", self.ssh_key(name).display()),
            ],
        }
    }

    /// Commits a change to `file`, signed by `key` (unsigned for `None`), and returns its id.
    fn commit(&self, file: &str, key: Option<&Signer>) -> String {
        std::fs::write(self.repo().join(file), format!("{file}\n")).expect("write");
        self.git(&["add", "-A"]);
        let mut args: Vec<String> = key.map(|k| self.signer(k)).unwrap_or_default();
        args.extend(["commit", "-q", "-m", file].map(String::from));
        if key.is_some() {
            args.push("-S".into());
        }
        self.git(&args.iter().map(String::as_str).collect::<Vec<_>>());
        self.git(&["rev-parse", "HEAD"])
    }

    /// Tags `HEAD` as `name` with an annotated tag signed by `key` (unsigned for `None`).
    fn tag(&self, name: &str, key: Option<&Signer>) {
        let mut args: Vec<String> = key.map(|k| self.signer(k)).unwrap_or_default();
        args.extend(["tag", "-m", name, if key.is_some() { "-s" } else { "-a" }, name].map(String::from));
        self.git(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }

    fn open(&self) -> Repository {
        Repository::open(self.repo()).expect("open")
    }

    fn keyring(&self, keys: &[Signer]) -> Keyring {
        let mut keyring = Keyring::new();
        for key in keys {
            let text = match key {
                Signer::Pgp(email) => self.pgp_public_key(email),
                Signer::Ssh(name) => self.ssh_public_key(name),
            };
            keyring.add_text(&text, "test keys").expect("keys");
        }
        keyring
    }
}

impl Drop for Signing {
    fn drop(&mut self) {
        // Stop the gpg-agent this test's GNUPGHOME started.
        let _ = Command::new("gpgconf").args(["--kill", "gpg-agent"]).env("GNUPGHOME", self.gnupg_home()).output();
    }
}

enum Signer {
    Pgp(&'static str),
    Ssh(&'static str),
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("runs");
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8").trim().to_owned()
}

fn verify(
    repo: &Repository,
    rev: &str,
    keyring: &Keyring,
    mode: VerifyMode,
) -> Result<Vec<gitops_source::Verified>, VerifyError> {
    let revision = repo.resolve_reference(&Reference::parse(rev).expect("reference")).expect("resolves");
    repo.verify(&revision, keyring, mode)
}

const ADA_PGP: Signer = Signer::Pgp("ada@example.com");
const EVE_PGP: Signer = Signer::Pgp("eve@example.com");
const ADA_SSH: Signer = Signer::Ssh("ada");
const EVE_SSH: Signer = Signer::Ssh("eve");

#[test]
fn good_openpgp_and_ssh_signatures_verify() {
    let Some(s) = Signing::new() else { return };
    let pgp_commit = s.commit("a", Some(&ADA_PGP));
    s.git(&["branch", "pgp"]);
    let ssh_commit = s.commit("b", Some(&ADA_SSH));
    let repo = s.open();
    let keyring = s.keyring(&[ADA_PGP, ADA_SSH]);

    let verified = verify(&repo, "pgp", &keyring, VerifyMode::Head).expect("good PGP signature");
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].object, SignedObject::Commit { id: pgp_commit });
    assert_eq!(verified[0].format, SignatureFormat::OpenPgp);
    assert_eq!(verified[0].key, s.fingerprint("ada@example.com"));
    assert_eq!(verified[0].signer.as_deref(), Some("Ada <ada@example.com>"));

    let verified = verify(&repo, "main", &keyring, VerifyMode::Head).expect("good SSH signature");
    assert_eq!(verified[0].object, SignedObject::Commit { id: ssh_commit });
    assert_eq!(verified[0].format, SignatureFormat::Ssh);
    assert_eq!(verified[0].key, s.ssh_fingerprint("ada"));
    assert_eq!(verified[0].signer.as_deref(), Some("ada@laptop"));
    // The same key as an allowed_signers line.
    let mut allowed = Keyring::new();
    allowed
        .add_text(&format!("ada@example.com namespaces=\"git\" {}", s.ssh_public_key("ada")), "allowed_signers")
        .expect("keys");
    verify(&repo, "main", &allowed, VerifyMode::Head).expect("allowed_signers form");
}

#[test]
fn a_signing_subkey_verifies_as_its_primary_key() {
    let Some(s) = Signing::new() else { return };
    let primary = s.fingerprint("ada@example.com");
    s.gpg(&["--pinentry-mode", "loopback", "--passphrase", "", "--quick-add-key", &primary, "ed25519", "sign", "0"]);
    let listing = s.gpg(&["--with-colons", "--list-keys", "ada@example.com"]);
    let subkey =
        listing.lines().filter_map(|l| l.strip_prefix("fpr:")).nth(1).expect("subkey").trim_matches(':').to_owned();
    std::fs::write(s.repo().join("a"), "a\n").expect("write");
    s.git(&["add", "a"]);
    s.git(&["-c", &format!("user.signingkey={subkey}!"), "commit", "-q", "-S", "-m", "by the subkey"]);
    let verified = verify(&s.open(), "main", &s.keyring(&[ADA_PGP]), VerifyMode::Head).expect("subkey signature");
    assert_eq!(verified[0].key, primary);
}

#[test]
fn unsigned_and_unknown_keys_are_refused_naming_commit_and_key() {
    let Some(s) = Signing::new() else { return };
    let unsigned = s.commit("a", None);
    s.git(&["branch", "unsigned"]);
    let by_eve = s.commit("b", Some(&EVE_PGP));
    s.git(&["branch", "eve-pgp"]);
    let by_eve_ssh = s.commit("c", Some(&EVE_SSH));
    let repo = s.open();
    let keyring = s.keyring(&[ADA_PGP, ADA_SSH]);

    let err = verify(&repo, "unsigned", &keyring, VerifyMode::Head).expect_err("unsigned");
    assert!(matches!(err, VerifyError::Unsigned { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("commit {unsigned}: not signed"));

    let err = verify(&repo, "eve-pgp", &keyring, VerifyMode::Head).expect_err("unknown PGP key");
    assert_eq!(
        err.to_string(),
        format!(
            "commit {by_eve}: signed with OpenPGP key {}, which is not in the keyring",
            s.fingerprint("eve@example.com")
        )
    );
    let err = verify(&repo, "main", &keyring, VerifyMode::Head).expect_err("unknown SSH key");
    assert_eq!(
        err.to_string(),
        format!("commit {by_eve_ssh}: signed with SSH key {}, which is not in the keyring", s.ssh_fingerprint("eve"))
    );
    let err = repo.verify(&repo.resolve("main").expect("main"), &Keyring::new(), VerifyMode::Head).expect_err("empty");
    assert!(matches!(err, VerifyError::EmptyKeyring), "{err:?}");
}

/// A commit object rewritten with another message but the original signature: the signature
/// must not verify over the new bytes.
#[test]
fn a_tampered_commit_is_refused() {
    let Some(s) = Signing::new() else { return };
    let keyring = s.keyring(&[ADA_PGP, ADA_SSH]);
    for (file, signer, format) in [("a", ADA_PGP, "OpenPGP"), ("b", ADA_SSH, "SSH")] {
        let original = s.commit(file, Some(&signer));
        let raw = s.git(&["cat-file", "commit", &original]);
        let forged = format!("{}\n", raw.replace(&format!("\n\n{file}"), "\n\nreplicas: 100"));
        assert_ne!(raw, forged.trim_end());
        let path = s.dir.path().join("forged");
        std::fs::write(&path, forged).expect("write");
        let id = s.git(&["hash-object", "-t", "commit", "-w", path.to_str().expect("utf-8")]);
        s.git(&["update-ref", "refs/heads/forged", &id]);
        let err = verify(&s.open(), "forged", &keyring, VerifyMode::Head).expect_err("tampered");
        assert!(matches!(err, VerifyError::BadSignature { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.starts_with(&format!("commit {id}: the {format} signature by key ")), "{message}");
        assert!(message.contains("does not verify"), "{message}");
        // The untouched commit still verifies.
        verify(&s.open(), &original, &keyring, VerifyMode::Head).expect("the original");
    }
}

#[test]
fn tag_modes_verify_the_annotated_tag_and_its_commit() {
    let Some(s) = Signing::new() else { return };
    let keyring = s.keyring(&[ADA_PGP, ADA_SSH]);
    let commit = s.commit("a", Some(&ADA_SSH));
    s.tag("v1.0.0", Some(&ADA_PGP));
    s.tag("v1.1.0-ssh", Some(&ADA_SSH));
    s.tag("v0.9.0", None);
    s.git(&["tag", "lightweight"]);
    s.commit("b", None);
    s.tag("v2.0.0", Some(&ADA_PGP));
    let repo = s.open();

    let verified = verify(&repo, "v1.0.0", &keyring, VerifyMode::Tag).expect("signed tag");
    assert_eq!(verified.len(), 1);
    let tag_id = s.git(&["rev-parse", "v1.0.0"]);
    assert_eq!(verified[0].object, SignedObject::Tag { name: "v1.0.0".into(), id: tag_id });
    assert_eq!(verified[0].format, SignatureFormat::OpenPgp);

    let verified = verify(&repo, "v1.1.0-ssh", &keyring, VerifyMode::TagAndHead).expect("tag and head");
    assert_eq!(verified.len(), 2);
    assert_eq!(verified[0].format, SignatureFormat::Ssh);
    assert_eq!(verified[1].object, SignedObject::Commit { id: commit });

    // A semver range names the tag it picked.
    let verified = verify(&repo, ">=1.0.0 <2.0.0", &keyring, VerifyMode::Tag).expect("range");
    assert!(matches!(&verified[0].object, SignedObject::Tag { name, .. } if name == "v1.0.0"));

    // The tag is signed but the commit under it is not.
    let err = verify(&repo, "v2.0.0", &keyring, VerifyMode::TagAndHead).expect_err("unsigned head");
    assert!(matches!(err, VerifyError::Unsigned { object: SignedObject::Commit { .. } }), "{err:?}");
    verify(&repo, "v2.0.0", &keyring, VerifyMode::Tag).expect("the tag alone");

    let err = verify(&repo, "v0.9.0", &keyring, VerifyMode::Tag).expect_err("unsigned tag");
    assert!(err.to_string().starts_with("tag v0.9.0 ("), "{err}");
    assert!(err.to_string().ends_with("): not signed"), "{err}");
    let err = verify(&repo, "lightweight", &keyring, VerifyMode::Tag).expect_err("lightweight");
    assert_eq!(
        err.to_string(),
        "cannot verify the tag of lightweight: refs/tags/lightweight is a lightweight tag, which cannot be signed"
    );
    let err = verify(&repo, "main", &keyring, VerifyMode::Tag).expect_err("a branch");
    assert_eq!(err.to_string(), "cannot verify the tag of main: refs/heads/main is not a tag");
    let err = verify(&repo, "HEAD", &keyring, VerifyMode::Tag).expect_err("HEAD");
    assert!(matches!(err, VerifyError::Tag { .. }), "{err:?}");
}

#[test]
fn keyrings_load_from_files() {
    let Some(s) = Signing::new() else { return };
    let pgp = s.dir.path().join("keys.asc");
    let both = format!("{}\n{}", s.pgp_public_key("ada@example.com"), s.pgp_public_key("eve@example.com"));
    std::fs::write(&pgp, both).expect("write");
    let mut keyring = Keyring::new();
    assert_eq!(keyring.add_file(&pgp).expect("two blocks"), 2);
    assert_eq!(keyring.pgp_fingerprints(), [s.fingerprint("ada@example.com"), s.fingerprint("eve@example.com")]);
    let err = keyring.add_file(Path::new("/nonexistent/keys")).expect_err("missing");
    assert!(err.to_string().starts_with("keys /nonexistent/keys: "), "{err}");
}

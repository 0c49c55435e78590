//! Expected values were made by `helm template` (Helm v4.3.1, Sprig v3.3); the `*_with_helm`
//! tests run helm again when it is installed and skip with a notice when it is not.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::helm::funcs::helm_funcs;
use crate::helm::template::{Templates, Value};

fn run(text: &str) -> Result<String, String> {
    let mut set = Templates::new().with_funcs(helm_funcs());
    set.parse("t", text).map_err(|e| e.to_string())?;
    set.execute("t", &Value::Missing).map_err(|e| e.to_string())
}

/// The `derivePassword` cases and helm's output for each.
const DERIVE: &[(&str, &str)] = &[
    (r#"derivePassword 1 "maximum" "secret" "user" "example.com""#, "o4$eWXtJieZ#%UQyhThd"),
    (r#"derivePassword 1 "long" "secret" "user" "example.com""#, "JuvtQoceKaxy0,"),
    (r#"derivePassword 1 "medium" "secret" "user" "example.com""#, "Juv8?Kav"),
    (r#"derivePassword 1 "short" "secret" "user" "example.com""#, "Juv8"),
    (r#"derivePassword 1 "basic" "secret" "user" "example.com""#, "otj83XfJ"),
    (r#"derivePassword 1 "pin" "secret" "user" "example.com""#, "6478"),
    (r#"derivePassword 3 "long" "pässwörd" "" "site""#, "NuwaKoqe9[Zulq"),
    (r#"derivePassword 1 "nope" "p" "u" "s""#, "cannot find password template nope"),
];

/// Ciphertexts helm's `encryptAES` made: (password, ciphertext, plaintext).
const AES: &[(&str, &str, &str)] = &[
    (
        "secretkey",
        "MScTSZ2Sbw+itatFrTWQBhg2uT+VsHTbSUoXqJa/raXsODVHT5d222yeSjTeH7jH47x/parab979gld/D152gg==",
        "hello, wörld! a longer text over one block",
    ),
    (
        "a-very-long-password-that-is-longer-than-32-bytes!!",
        "mMISDmMD25MlKh2bj241ramqkQLE+ssrLNRn0TdnoAX39Rlr/DIZkYO/YxVZjhe1",
        "16 bytes exactly",
    ),
];

/// A hash of "hunter2" made by helm's `bcrypt`.
const HELM_BCRYPT: &str = "$2a$10$FW0vZ/0Gue5.W0XzEPZjOeyf/sDGs1e3Q0UsDszg.fVWRMAyOw4eS";

#[test]
fn derive_password_matches_helm() {
    for (expr, want) in DERIVE {
        assert_eq!(run(&format!("{{{{ {expr} }}}}")).expect("runs"), *want, "{expr}");
    }
    let err = run(r#"{{ derivePassword -1 "pin" "p" "u" "s" }}"#).expect_err("negative counter");
    assert!(err.contains("overflows uint32"), "{err}");
}

#[test]
fn decrypt_aes_reads_what_helm_encrypted_and_encrypt_round_trips() {
    for (password, crypt, plain) in AES {
        assert_eq!(run(&format!("{{{{ decryptAES {password:?} {crypt:?} }}}}")).expect("runs"), *plain);
        let ours = run(&format!("{{{{ encryptAES {password:?} {plain:?} }}}}")).expect("runs");
        assert_ne!(ours, *crypt, "the IV is random");
        assert_eq!(ours.len(), crypt.len(), "IV + padded blocks in base64");
        let back = run(&format!("{{{{ encryptAES {password:?} {plain:?} | decryptAES {password:?} }}}}"));
        assert_eq!(back.expect("runs"), *plain);
    }
    assert_eq!(run(r#"{{ encryptAES "k" "" }}|{{ decryptAES "k" "" }}"#).expect("runs"), "|");
    let wrong = run(&format!("{{{{ decryptAES \"other\" {:?} }}}}", AES[0].1));
    assert_ne!(wrong.as_deref(), Ok(AES[0].2), "a wrong password does not decrypt");
    for bad in ["QUJ", "QUJD", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="] {
        let err = run(&format!("{{{{ decryptAES \"k\" {bad:?} }}}}")).expect_err(bad);
        assert!(err.contains("error calling decryptAES"), "{err}");
    }
}

#[test]
fn bcrypt_and_htpasswd_hash_as_go_does() {
    let ours = run(r#"{{ bcrypt "hunter2" }}"#).expect("runs");
    assert!(ours.starts_with("$2a$10$") && ours.len() == 60, "{ours}");
    assert!(bcrypt::verify("hunter2", &ours).expect("a hash"));
    assert!(!bcrypt::verify("hunter3", &ours).expect("a hash"));
    assert!(bcrypt::verify("hunter2", HELM_BCRYPT).expect("helm's hash"));

    let line = run(r#"{{ htpasswd "bob" "pw" }}"#).expect("runs");
    let (user, hash) = line.split_once(':').expect("user:hash");
    assert_eq!(user, "bob");
    assert!(hash.starts_with("$2a$10$") && bcrypt::verify("pw", hash).expect("a hash"), "{line}");
    assert_eq!(run(r#"{{ htpasswd "a:b" "pw" }}"#).expect("runs"), "invalid username: a:b");
    let long = "x".repeat(73);
    assert_eq!(
        run(&format!("{{{{ bcrypt {long:?} }}}}")).expect("runs"),
        "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
    );
}

fn helm_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HELM").map(PathBuf::from).filter(|p| p.is_file()) {
        return Some(path);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    Some(home.join(".cache/gitops-peers/bin/helm")).filter(|p| p.is_file())
}

/// `helm template` of a chart whose template prints each of `exprs` (as a YAML map of JSON
/// strings); their values in order, or `None` (with a notice) when helm is absent.
fn helm_values(exprs: &[String]) -> Option<Vec<String>> {
    let Some(helm) = helm_binary() else {
        eprintln!("skipped: helm not found (set HELM or run install-peers.sh)");
        return None;
    };
    let mut template = String::new();
    for (i, e) in exprs.iter().enumerate() {
        writeln!(template, "v{i:03}: {{{{ {e} | toJson }}}}").expect("write to a String");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let chart = dir.path().join("c");
    std::fs::create_dir_all(chart.join("templates")).expect("mkdir");
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n").expect("write");
    std::fs::write(chart.join("templates/t.yaml"), template).expect("write");
    let out = std::process::Command::new(helm).arg("template").arg("x").arg(&chart).output().expect("helm runs");
    assert!(out.status.success(), "helm: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    Some(
        text.lines()
            .filter(|l| l.starts_with('v'))
            .filter_map(|l| l.split_once(": ").map(|(_, v)| v))
            .map(|l| serde_json::from_str::<String>(l).expect("a JSON string"))
            .collect(),
    )
}

#[test]
fn derive_password_and_aes_agree_with_helm() {
    let exprs: Vec<String> = DERIVE.iter().map(|(e, _)| (*e).to_owned()).collect();
    let Some(helm) = helm_values(&exprs) else { return };
    let want: Vec<String> = DERIVE.iter().map(|(_, w)| (*w).to_owned()).collect();
    assert_eq!(helm, want, "helm's output is still the committed expected values");
    // What we encrypt, helm decrypts; what helm encrypts, we decrypt.
    let ours = run(r#"{{ encryptAES "k3y" "from gitops-rs" }}"#).expect("runs");
    let exprs = [format!("decryptAES \"k3y\" {ours:?}"), r#"encryptAES "k3y" "from helm""#.to_owned()];
    let Some(helm) = helm_values(&exprs) else { return };
    assert_eq!(helm[0], "from gitops-rs");
    assert_eq!(run(&format!("{{{{ decryptAES \"k3y\" {:?} }}}}", helm[1])).expect("runs"), "from helm");
}

#[test]
fn helm_and_we_verify_each_others_bcrypt() {
    let Some(helm) = helm_values(&[r#"htpasswd "bob" "pw""#.to_owned()]) else { return };
    let (user, hash) = helm[0].split_once(':').expect("user:hash");
    assert_eq!(user, "bob");
    assert!(bcrypt::verify("pw", hash).expect("helm's hash"), "{helm:?}");
}

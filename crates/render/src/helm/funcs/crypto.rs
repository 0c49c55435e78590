//! Sprig's crypto functions with Sprig v3.3's semantics (the version Helm 4 ships):
//! `derivePassword` (the Master Password algorithm), `encryptAES`/`decryptAES` (AES-256-CBC)
//! and `bcrypt`/`htpasswd` (`$2a$`, cost 10 as Go's `bcrypt.DefaultCost`).
//!
//! Like Sprig, `derivePassword`, `bcrypt` and `htpasswd` report their failures in their output
//! text rather than as errors; `encryptAES`/`decryptAES` return errors. Key and certificate
//! generation (`genPrivateKey`, `genCA`, ...) is not here yet (`docs/helm.md`).

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding, block_padding::Pkcs7};
use base64::Engine as _;
use hmac::Mac as _;

use super::{add, want_int, want_str};
use crate::helm::template::{Arity, FuncError, FuncMap, Value};

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// The salt prefix of the Master Password algorithm.
const MASTER_PASSWORD_SEED: &[u8] = b"com.lyndir.masterpassword";

/// The password templates of each `derivePassword` type.
fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

/// The characters a template letter stands for.
fn template_characters(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// `prefix`, the big-endian 32-bit length of `text`, then `text`.
fn scoped(text: &str) -> Result<Vec<u8>, String> {
    let len = u32::try_from(text.len()).map_err(|_| "failed to derive password: input too long".to_owned())?;
    let mut out = MASTER_PASSWORD_SEED.to_vec();
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    Ok(out)
}

/// Sprig's `derivePassword`: scrypt (N=32768, r=8, p=2) of the master password salted with the
/// user name, then HMAC-SHA256 of the site and counter; the seed picks a template and its letters.
/// Failures are the returned text, as in Sprig.
fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    let Some(templates) = password_templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let derive = || -> Result<String, String> {
        let salt = scoped(user)?;
        let params = scrypt::Params::new(15, 8, 2, 64).map_err(|e| format!("failed to derive password: {e}"))?;
        let mut key = [0_u8; 64];
        scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key)
            .map_err(|e| format!("failed to derive password: {e}"))?;
        let mut message = scoped(site)?;
        message.extend_from_slice(&counter.to_be_bytes());
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
        mac.update(&message);
        let seed = mac.finalize().into_bytes();
        let template = templates[usize::from(seed[0]) % templates.len()];
        Ok(template
            .bytes()
            .zip(seed.iter().skip(1))
            .map(|(class, s)| {
                let chars = template_characters(class);
                char::from(chars[usize::from(*s) % chars.len()])
            })
            .collect())
    };
    derive().unwrap_or_else(|e| e)
}

/// The AES-256 key Sprig makes of a password: its bytes copied into 32 zero bytes (longer
/// passwords are cut at 32 bytes).
fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0_u8; 32];
    let bytes = password.as_bytes();
    let n = bytes.len().min(32);
    key[..n].copy_from_slice(&bytes[..n]);
    key
}

/// Sprig's `encryptAES`: AES-256-CBC with PKCS#7 padding and a random IV put before the
/// ciphertext, in standard base64. An empty plaintext gives "".
fn encrypt_aes(password: &str, plaintext: &str) -> Result<String, FuncError> {
    if plaintext.is_empty() {
        return Ok(String::new());
    }
    let mut iv = [0_u8; 16];
    getrandom::fill(&mut iv).map_err(|e| FuncError::Message(format!("random source: {e}")))?;
    let body =
        Aes256CbcEnc::new(&aes_key(password).into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(plaintext.as_bytes());
    let mut out = iv.to_vec();
    out.extend_from_slice(&body);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// Sprig's `decryptAES`, the inverse of [`encrypt_aes`]. Where Go panics (input shorter than one
/// block, not whole blocks, a padding length past the text) this returns an error.
fn decrypt_aes(password: &str, crypt64: &str) -> Result<String, FuncError> {
    if crypt64.is_empty() {
        return Ok(String::new());
    }
    let crypt = base64::engine::general_purpose::STANDARD
        .decode(crypt64)
        .map_err(|e| FuncError::Message(format!("illegal base64 data: {e}")))?;
    if crypt.len() < 32 || crypt.len() % 16 != 0 {
        return Err(FuncError::Message(format!(
            "ciphertext of {} bytes is not an IV and whole AES blocks",
            crypt.len()
        )));
    }
    let (iv, body) = crypt.split_at(16);
    let iv: [u8; 16] = iv.try_into().map_err(|_| FuncError::Message("bad IV".to_owned()))?;
    // Sprig strips as many bytes as the last byte says without checking the padding; so do we.
    let mut plain = Aes256CbcDec::new(&aes_key(password).into(), &iv.into())
        .decrypt_padded_vec_mut::<NoPadding>(body)
        .map_err(|e| FuncError::Message(format!("decrypting: {e}")))?;
    let pad = usize::from(plain.last().copied().unwrap_or(0));
    let keep = plain.len().checked_sub(pad).ok_or_else(|| {
        FuncError::Message("decrypted text has a padding length longer than itself (wrong password?)".to_owned())
    })?;
    plain.truncate(keep);
    Ok(String::from_utf8_lossy(&plain).into_owned())
}

/// Go's `bcrypt.DefaultCost`.
const BCRYPT_COST: u32 = 10;

/// Sprig's `bcrypt`: a `$2a$` hash of cost 10; failures are the returned text.
fn bcrypt_hash(password: &str) -> String {
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes".to_owned();
    }
    match bcrypt::hash_with_result(password, BCRYPT_COST) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

pub(super) fn register(map: &mut FuncMap) {
    add(map, "derivePassword", Arity::Exact(5), |_, a| {
        let counter = want_int(&a[0])?;
        let counter = u32::try_from(counter)
            .map_err(|_| FuncError::Arg(format!("{counter} overflows uint32 (derivePassword's counter)")))?;
        let (kind, password, user, site) = (want_str(&a[1])?, want_str(&a[2])?, want_str(&a[3])?, want_str(&a[4])?);
        Ok(Value::from(derive_password(counter, kind, password, user, site)))
    });
    add(map, "encryptAES", Arity::Exact(2), |_, a| Ok(Value::from(encrypt_aes(want_str(&a[0])?, want_str(&a[1])?)?)));
    add(map, "decryptAES", Arity::Exact(2), |_, a| Ok(Value::from(decrypt_aes(want_str(&a[0])?, want_str(&a[1])?)?)));
    add(map, "bcrypt", Arity::Exact(1), |_, a| Ok(Value::from(bcrypt_hash(want_str(&a[0])?))));
    add(map, "htpasswd", Arity::Exact(2), |_, a| {
        let (user, password) = (want_str(&a[0])?, want_str(&a[1])?);
        if user.contains(':') {
            return Ok(Value::from(format!("invalid username: {user}")));
        }
        Ok(Value::from(format!("{user}:{}", bcrypt_hash(password))))
    });
}

#[cfg(test)]
mod tests;

//! kube-rs errors as [`TargetError`]s.

use gitops_core::ObjectRef;

use crate::target::{TargetError, TargetErrorKind};

/// The kind of failure an HTTP status code means.
pub(crate) fn kind_of_code(code: u16) -> TargetErrorKind {
    match code {
        404 | 410 => TargetErrorKind::NotFound,
        409 => TargetErrorKind::Conflict,
        400 | 422 => TargetErrorKind::Invalid,
        // Throttled, or the server (or a proxy, or an aggregated API) failing for now.
        429 | 500 | 502 | 503 | 504 => TargetErrorKind::Transient,
        _ => TargetErrorKind::Other,
    }
}

/// Maps a kube error about `object` (or the inventory, when `None`).
pub(crate) fn map(error: kube::Error, object: Option<&ObjectRef>, doing: &str) -> TargetError {
    let (kind, message) = match &error {
        kube::Error::Api(status) => {
            let mut kind = kind_of_code(status.code);
            let mut message = format!("{doing}: {} ({})", status.message, status.code);
            let owned_elsewhere =
                status.details.as_ref().is_some_and(|d| d.causes.iter().any(|c| c.reason == "FieldManagerConflict"))
                    || status.message.contains("conflict with \"");
            if kind == TargetErrorKind::Conflict && owned_elsewhere {
                kind = TargetErrorKind::Ownership;
                message.push_str(
                    "; another field manager owns these fields: change them there, or force the apply to take them over",
                );
            }
            (kind, message)
        }
        // Connection refused or reset, timeouts, a dropped body: the request may not have reached
        // the server, or its answer was lost. Every write is an idempotent apply, so a retry is safe.
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
            (TargetErrorKind::Transient, format!("{doing}: {}", chain(&error)))
        }
        _ => (TargetErrorKind::Other, format!("{doing}: {}", chain(&error))),
    };
    TargetError::new(kind, object, message).with_source(error)
}

/// The error and its causes, joined (`a: b: c`), for messages that must stand alone.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(kind_of_code(404), TargetErrorKind::NotFound);
        assert_eq!(kind_of_code(409), TargetErrorKind::Conflict);
        assert_eq!(kind_of_code(422), TargetErrorKind::Invalid);
        for code in [429, 500, 502, 503, 504] {
            assert_eq!(kind_of_code(code), TargetErrorKind::Transient, "{code}");
        }
        assert_eq!(kind_of_code(403), TargetErrorKind::Other);
    }
}

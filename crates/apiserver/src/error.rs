//! Errors the server answers with, each rendered as a Kubernetes `Status` body.

use serde_json::{Map, Value, json};

/// One cause of an [`ApiError`]: `details.causes[]` in the `Status` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The machine-readable reason, such as `FieldValueInvalid` or `FieldManagerConflict`.
    pub reason: String,
    /// The human-readable message.
    pub message: String,
    /// The field the cause is about, such as `metadata.name` or `.spec.replicas`.
    pub field: String,
}

/// An error reply. [`ApiError::status`] renders the `Status` body, [`ApiError::code`] the HTTP code.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 404: the object (or the namespace it would live in) does not exist.
    #[error("{resource} \"{name}\" not found")]
    NotFound {
        /// The resource, group-qualified (`deployments.apps`).
        resource: String,
        /// The object's name.
        name: String,
    },
    /// 404: the path names no resource this server knows.
    #[error("the server could not find the requested resource")]
    NoResource,
    /// 403: the request is not allowed, such as a create in a terminating namespace.
    #[error("{resource} \"{name}\" is forbidden: {message}")]
    Forbidden {
        /// The resource, group-qualified.
        resource: String,
        /// The object's name.
        name: String,
        /// Why.
        message: String,
    },
    /// 409: a create found an object of the same name.
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists {
        /// The resource, group-qualified.
        resource: String,
        /// The object's name.
        name: String,
    },
    /// 409: an optimistic-lock precondition (`metadata.resourceVersion`) failed.
    #[error(
        "Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
    )]
    Conflict {
        /// The resource, group-qualified.
        resource: String,
        /// The object's name.
        name: String,
    },
    /// 409: server-side apply found fields owned by other managers with other values.
    #[error("{message}")]
    ApplyConflict {
        /// The message in kubectl's format: `Apply failed with 1 conflict: ...`.
        message: String,
        /// One `FieldManagerConflict` cause per conflicting field.
        causes: Vec<Cause>,
    },
    /// 422: the object failed validation.
    #[error("{kind} \"{name}\" is invalid: {}", join_causes(.causes))]
    Invalid {
        /// The kind (`ConfigMap`), or `PatchOptions` for invalid options.
        kind: String,
        /// The group of the kind, empty for the core group.
        group: String,
        /// The object's name.
        name: String,
        /// What is invalid.
        causes: Vec<Cause>,
    },
    /// 400: the request cannot be understood.
    #[error("{0}")]
    BadRequest(String),
    /// 405: the verb is not allowed on this path.
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    /// 413: the body is larger than the server accepts.
    #[error("Request entity too large: limit is {0}")]
    TooLarge(usize),
    /// 415: the body's content type is not accepted.
    #[error("the body of the request was in an unknown format - accepted media types include: {0}")]
    UnsupportedMediaType(String),
    /// 500: the server failed.
    #[error("{0}")]
    Internal(String),
}

fn join_causes(causes: &[Cause]) -> String {
    let parts: Vec<String> = causes.iter().map(|cause| format!("{}: {}", cause.field, cause.message)).collect();
    if parts.len() == 1 { parts.concat() } else { format!("[{}]", parts.join(", ")) }
}

impl ApiError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } | ApiError::NoResource => 404,
            ApiError::Forbidden { .. } => 403,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } | ApiError::ApplyConflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::MethodNotAllowed => 405,
            ApiError::TooLarge(_) => 413,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Internal(_) => 500,
        }
    }

    /// The `reason` of the `Status` body.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } | ApiError::NoResource => "NotFound",
            ApiError::Forbidden { .. } => "Forbidden",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } | ApiError::ApplyConflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
            ApiError::TooLarge(_) => "RequestEntityTooLarge",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::Internal(_) => "InternalError",
        }
    }

    /// Whether this is a 409 of any kind.
    pub fn is_conflict(&self) -> bool {
        self.code() == 409
    }

    /// The `Status` body, shaped exactly as the Kubernetes API server shapes it.
    pub fn status(&self) -> Value {
        let mut details = Map::new();
        match self {
            ApiError::NotFound { resource, name }
            | ApiError::AlreadyExists { resource, name }
            | ApiError::Conflict { resource, name }
            | ApiError::Forbidden { resource, name, .. } => {
                let (kind, group) = resource.split_once('.').unwrap_or((resource.as_str(), ""));
                details.insert("name".into(), json!(name));
                if !group.is_empty() {
                    details.insert("group".into(), json!(group));
                }
                details.insert("kind".into(), json!(kind));
            }
            ApiError::ApplyConflict { causes, .. } => {
                details.insert("causes".into(), causes_json(causes));
            }
            ApiError::Invalid { kind, group, name, causes } => {
                details.insert("name".into(), json!(name));
                if !group.is_empty() {
                    details.insert("group".into(), json!(group));
                }
                details.insert("kind".into(), json!(kind));
                details.insert("causes".into(), causes_json(causes));
            }
            _ => {}
        }
        let mut status = Map::new();
        status.insert("kind".into(), json!("Status"));
        status.insert("apiVersion".into(), json!("v1"));
        status.insert("metadata".into(), json!({}));
        status.insert("status".into(), json!("Failure"));
        status.insert("message".into(), json!(self.to_string()));
        status.insert("reason".into(), json!(self.reason()));
        if !details.is_empty() {
            status.insert("details".into(), Value::Object(details));
        }
        status.insert("code".into(), json!(self.code()));
        Value::Object(status)
    }
}

fn causes_json(causes: &[Cause]) -> Value {
    causes.iter().map(|cause| json!({"reason": cause.reason, "message": cause.message, "field": cause.field})).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_group() {
        let error = ApiError::NotFound { resource: "deployments.apps".into(), name: "web".into() };
        assert_eq!(error.to_string(), "deployments.apps \"web\" not found");
        let status = error.status();
        assert_eq!(status["details"], json!({"name": "web", "group": "apps", "kind": "deployments"}));
        assert_eq!(status["code"], 404);
    }

    #[test]
    fn invalid_joins_causes() {
        let cause =
            |field: &str| Cause { reason: "FieldValueInvalid".into(), message: "bad".into(), field: field.into() };
        let one = ApiError::Invalid {
            kind: "ConfigMap".into(),
            group: String::new(),
            name: "x".into(),
            causes: vec![cause("a")],
        };
        assert_eq!(one.to_string(), "ConfigMap \"x\" is invalid: a: bad");
        let two = ApiError::Invalid {
            kind: "ConfigMap".into(),
            group: String::new(),
            name: "x".into(),
            causes: vec![cause("a"), cause("b")],
        };
        assert_eq!(two.to_string(), "ConfigMap \"x\" is invalid: [a: bad, b: bad]");
    }
}

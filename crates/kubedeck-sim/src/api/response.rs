//! Building responses: JSON bodies serialized straight to bytes, errors as
//! metav1.Status, and what the Accept header asks the object to look like.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use crate::error::ApiError;

pub(super) const JSON: &str = "application/json";

pub(super) fn bytes(code: u16, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

pub(super) fn json(code: u16, v: &Value) -> Response {
    // Serializing a Value cannot fail: its map keys are strings.
    bytes(code, JSON, serde_json::to_vec(v).unwrap_or_default())
}

pub(super) fn ok(v: &Value) -> Response {
    json(200, v)
}

pub(super) fn error(e: &ApiError) -> Response {
    let mut resp = json(e.code, &e.status());
    // As the API server's error writer: a suggested delay is a header too.
    let retry = e
        .details
        .as_ref()
        .and_then(|d| d["retryAfterSeconds"].as_u64())
        .filter(|s| *s > 0);
    if let Some(secs) = retry
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if e.code == 401 {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"kubernetes-master\""),
        );
    }
    resp
}

pub(super) fn text(code: u16, s: impl Into<String>) -> Response {
    bytes(code, "text/plain; charset=utf-8", s.into().into_bytes())
}

/// The shape the client asked for in Accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// The object or list itself.
    Plain,
    /// A `meta.k8s.io` Table of that version (`v1` or `v1beta1`).
    Table(&'static str),
    /// PartialObjectMetadata(List) of that version.
    Metadata(&'static str),
}

/// Picks the first acceptable media type, in the client's order, as the
/// API server does; protobuf and aggregated discovery fall through to the
/// JSON alternatives clients always list after them.
pub(super) fn shape(accept: Option<&str>) -> Shape {
    let Some(accept) = accept else {
        return Shape::Plain;
    };
    for media in accept.split(',') {
        let mut parts = media.split(';').map(str::trim);
        let mime = parts.next().unwrap_or("").to_ascii_lowercase();
        let (mut as_, mut g, mut v) = ("", "", "");
        for p in parts {
            if let Some((k, val)) = p.split_once('=') {
                let val = val.trim().trim_matches('"');
                match k.trim() {
                    "as" => as_ = val,
                    "g" => g = val,
                    "v" => v = val,
                    _ => {}
                }
            }
        }
        if !matches!(
            mime.as_str(),
            "application/json" | "application/yaml" | "application/*" | "*/*"
        ) {
            continue;
        }
        let version = match v {
            "v1" => "v1",
            "v1beta1" => "v1beta1",
            _ => "",
        };
        match as_ {
            "" => return Shape::Plain,
            "Table" if g == "meta.k8s.io" && !version.is_empty() => return Shape::Table(version),
            "PartialObjectMetadata" | "PartialObjectMetadataList"
                if g == "meta.k8s.io" && !version.is_empty() =>
            {
                return Shape::Metadata(version);
            }
            _ => continue,
        }
    }
    Shape::Plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_accept_asks_for_a_v1_table() {
        let a = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(shape(Some(a)), Shape::Table("v1"));
    }

    #[test]
    fn protobuf_and_discovery_fall_through_to_json() {
        let a = "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json";
        assert_eq!(shape(Some(a)), Shape::Plain);
        let d =
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        assert_eq!(shape(Some(d)), Shape::Plain);
        assert_eq!(shape(None), Shape::Plain);
        assert_eq!(shape(Some("")), Shape::Plain);
    }

    #[test]
    fn kube_rs_metadata_lists_get_partial_objects() {
        let a = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
        assert_eq!(shape(Some(a)), Shape::Metadata("v1"));
    }
}

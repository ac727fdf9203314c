//! What a list's or watch's `resourceVersion` and `resourceVersionMatch`
//! mean, with kube-apiserver's answers (measured against v1.37):
//!
//! - a list at a version the server has not reached is 504 Timeout,
//!   `Too large resource version`, cause `ResourceVersionTooLarge` and
//!   Retry-After 1 (the real server first waits 3 s for its cache to catch
//!   up; the simulator's store is never behind, so it answers at once);
//! - a list with `resourceVersionMatch=Exact`, or with a version and a
//!   `limit` but no match (the legacy paged semantics), is served as it
//!   was at that version, or 410 Expired once it is compacted away;
//! - otherwise a version not newer than the server's is served current;
//! - a GET at a version from the future is the same 504;
//! - a watch from the future is a 200 that sends nothing until the store
//!   passes that version (see `store::Store::watch`), but a streaming list
//!   (`sendInitialEvents=true`) from the future is a 200 whose one event is
//!   an ERROR with that 504; a watch older than the window is a 200 whose
//!   one event is an ERROR with a 410 Expired.

use serde_json::json;

use super::query::ListOptions;
use crate::error::{ApiError, ApiResult};

/// Which state of the store a list is served from.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ListAt {
    Current,
    Exact(u64),
}

/// Go's `strconv.ParseUint` error text, which the server quotes.
fn parse(rv: &str) -> Result<u64, String> {
    rv.parse::<u64>().map_err(|e| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow => "value out of range",
            _ => "invalid syntax",
        };
        format!("resourceVersion: Invalid value: {rv:?}: strconv.ParseUint: parsing {rv:?}: {why}")
    })
}

/// The state a list is served from, given the store's current version.
pub(super) fn list_at(opts: &ListOptions, current: u64) -> ApiResult<ListAt> {
    validate(opts, false)?;
    let rv = match opts.resource_version.as_deref() {
        None | Some("0") => return Ok(ListAt::Current),
        Some(rv) => parse(rv)
            .map_err(|why| ApiError::bad_request(format!("invalid resource version: {why}")))?,
    };
    if rv > current {
        return Err(too_large(rv, current));
    }
    let exact = match opts.resource_version_match.as_deref() {
        Some("Exact") => true,
        Some(_) => false,
        None => opts.limit > 0 && opts.continue_from.is_none(),
    };
    Ok(if exact {
        ListAt::Exact(rv)
    } else {
        ListAt::Current
    })
}

/// A GET's `resourceVersion` asks for the object no older than it: any
/// version the store has reached is served current, a later one is 504.
pub(super) fn get_not_older_than(rv: Option<&str>, current: u64) -> ApiResult<()> {
    match rv {
        None | Some("0") => Ok(()),
        Some(rv) => {
            let rv = parse(rv)
                .map_err(|why| ApiError::bad_request(format!("invalid resource version: {why}")))?;
            if rv > current {
                Err(too_large(rv, current))
            } else {
                Ok(())
            }
        }
    }
}

/// The version a watch resumes after; None starts with the current state
/// ("" and "0" both mean "any").
pub(super) fn watch_since(opts: &ListOptions) -> ApiResult<Option<u64>> {
    validate(opts, true)?;
    match opts.resource_version.as_deref() {
        None | Some("0") => Ok(None),
        // The real server fails this one late, as a bare 500.
        Some(rv) => parse(rv)
            .map(Some)
            .map_err(|why| ApiError::new(500, "", why)),
    }
}

/// The 504 of a list at a version the server has not reached.
pub(super) fn too_large(rv: u64, current: u64) -> ApiError {
    let mut e = ApiError::new(
        504,
        "Timeout",
        format!("Timeout: Too large resource version: {rv}, current: {current}"),
    );
    e.details = Some(json!({
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
        "retryAfterSeconds": 1,
    }));
    e
}

/// The ListOptions validation of `resourceVersionMatch` and
/// `sendInitialEvents`, with the server's messages.
fn validate(opts: &ListOptions, watch: bool) -> ApiResult<()> {
    let mut causes: Vec<(&str, String, &str)> = Vec::new();
    let mut forbid = |field, why: String| causes.push((field, why, "FieldValueForbidden"));
    let rv_match = opts.resource_version_match.as_deref();
    let continued = opts.continue_from.is_some();
    if watch {
        if opts.send_initial_events.is_some() && rv_match != Some("NotOlderThan") {
            forbid(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan".into(),
            );
        }
        if let Some(m) = rv_match {
            if opts.send_initial_events.is_none() {
                forbid(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided".into(),
                );
            }
            if m != "NotOlderThan" {
                causes.push((
                    "resourceVersionMatch",
                    format!("Unsupported value: {m:?}: supported values: \"NotOlderThan\""),
                    "FieldValueNotSupported",
                ));
            }
            if continued {
                causes.push((
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden when continue is provided".into(),
                    "FieldValueForbidden",
                ));
            }
        }
    } else {
        if let Some(m) = rv_match {
            if opts.resource_version.is_none() {
                forbid(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided".into(),
                );
            }
            if continued {
                forbid(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden when continue is provided".into(),
                );
            }
            if m != "Exact" && m != "NotOlderThan" {
                causes.push((
                    "resourceVersionMatch",
                    format!(
                        "Unsupported value: {m:?}: supported values: \"Exact\", \"NotOlderThan\", \"\""
                    ),
                    "FieldValueNotSupported",
                ));
            }
            if m == "Exact" && opts.resource_version.as_deref() == Some("0") {
                causes.push((
                    "resourceVersionMatch",
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"".into(),
                    "FieldValueForbidden",
                ));
            }
        }
        if opts.send_initial_events.is_some() {
            causes.push((
                "sendInitialEvents",
                "sendInitialEvents is forbidden for list".into(),
                "FieldValueForbidden",
            ));
        }
    }
    if causes.is_empty() {
        return Ok(());
    }
    Err(invalid_list_options(&causes))
}

/// 422 for `ListOptions.meta.k8s.io`, one cause per problem; a forbidden
/// field's message reads "Forbidden: ...", as field.Forbidden writes it.
fn invalid_list_options(causes: &[(&str, String, &str)]) -> ApiError {
    let text = |(_, why, reason): &(&str, String, &str)| {
        if *reason == "FieldValueForbidden" {
            format!("Forbidden: {why}")
        } else {
            why.clone()
        }
    };
    let list: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.0, text(c)))
        .collect();
    let joined = match list.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let mut e = ApiError::new(
        422,
        "Invalid",
        format!("ListOptions.meta.k8s.io \"\" is invalid: {joined}"),
    );
    e.details = Some(json!({
        "group": "meta.k8s.io",
        "kind": "ListOptions",
        "causes": causes
            .iter()
            .map(|c| json!({"reason": c.2, "message": text(c), "field": c.0}))
            .collect::<Vec<_>>(),
    }));
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::query::Query;

    fn opts(q: &str) -> ListOptions {
        ListOptions::from_query(&Query::parse(Some(q))).unwrap()
    }

    #[test]
    fn lists_read_the_version_as_the_real_server_does() {
        let at = |q: &str| list_at(&opts(q), 100);
        assert_eq!(at("").unwrap(), ListAt::Current);
        assert_eq!(at("resourceVersion=0&limit=5").unwrap(), ListAt::Current);
        assert_eq!(at("resourceVersion=40").unwrap(), ListAt::Current);
        assert_eq!(
            at("resourceVersion=40&resourceVersionMatch=NotOlderThan&limit=5").unwrap(),
            ListAt::Current
        );
        assert_eq!(at("resourceVersion=40&limit=5").unwrap(), ListAt::Exact(40));
        assert_eq!(
            at("resourceVersion=40&resourceVersionMatch=Exact").unwrap(),
            ListAt::Exact(40)
        );
        let e = at("resourceVersion=100100").unwrap_err();
        assert_eq!((e.code, e.reason), (504, "Timeout"));
        assert_eq!(
            e.message,
            "Timeout: Too large resource version: 100100, current: 100"
        );
        let e = at("resourceVersion=abc").unwrap_err();
        assert_eq!(
            e.message,
            "invalid resource version: resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
    }

    #[test]
    fn malformed_matches_are_invalid_list_options() {
        let e = list_at(&opts("resourceVersionMatch=NotOlderThan"), 100).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
        );
        let e = list_at(&opts("resourceVersion=0&resourceVersionMatch=Exact"), 100).unwrap_err();
        assert_eq!(
            e.details.unwrap()["causes"][0]["message"],
            "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
        );
        let e = watch_since(&opts("resourceVersion=5&resourceVersionMatch=Exact")).unwrap_err();
        assert_eq!(
            e.message,
            "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided, resourceVersionMatch: Unsupported value: \"Exact\": supported values: \"NotOlderThan\"]"
        );
        let e = watch_since(&opts("resourceVersion=abc")).unwrap_err();
        assert_eq!(e.code, 500);
    }
}

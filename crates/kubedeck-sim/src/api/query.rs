//! Query-string parsing: the list, watch, delete and log options the API
//! server reads from the URL, and the opaque `continue` token of paged lists.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::store::ObjKey;

/// The decoded query string; the first occurrence of a key wins.
#[derive(Debug, Default, Clone)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

/// Go's `strconv.ParseBool`, which the API server uses for flags.
pub(super) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty value.
    pub(crate) fn value(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    pub(crate) fn flag(&self, key: &str) -> ApiResult<bool> {
        match self.value(key) {
            None => Ok(false),
            Some(v) => parse_bool(v).ok_or_else(|| {
                ApiError::bad_request(format!("invalid value {v:?} for {key}: not a boolean"))
            }),
        }
    }

    pub(crate) fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.value(key) {
            None => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ApiError::bad_request(format!("invalid value {v:?} for {key}: not an integer"))
            }),
        }
    }

    /// `dryRun=All`, the only value the API server accepts.
    pub(crate) fn dry_run(&self) -> ApiResult<bool> {
        match self.value("dryRun") {
            None => Ok(false),
            Some("All") => Ok(true),
            Some(v) => Err(ApiError::bad_request(format!(
                "Invalid dryRun value: {v:?}: supported values: \"All\""
            ))),
        }
    }
}

/// Options of a list or watch.
#[derive(Debug, Default, Clone)]
pub(crate) struct ListOptions {
    pub(crate) label_selector: Option<String>,
    pub(crate) field_selector: Option<String>,
    /// 0 means everything.
    pub(crate) limit: usize,
    pub(crate) continue_from: Option<Continue>,
    pub(crate) resource_version: Option<String>,
    pub(crate) resource_version_match: Option<String>,
    pub(crate) timeout_seconds: Option<u64>,
    pub(crate) allow_bookmarks: bool,
    /// None when not given: the server tells "false" from absent.
    pub(crate) send_initial_events: Option<bool>,
}

impl ListOptions {
    pub(crate) fn from_query(q: &Query) -> ApiResult<ListOptions> {
        let limit = match q.int("limit")? {
            Some(n) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => 0,
        };
        let continue_from = q.value("continue").map(Continue::decode).transpose()?;
        let timeout_seconds = match q.int("timeoutSeconds")? {
            Some(n) if n > 0 => Some(n.unsigned_abs()),
            _ => None,
        };
        Ok(ListOptions {
            label_selector: q.value("labelSelector").map(str::to_string),
            field_selector: q.value("fieldSelector").map(str::to_string),
            limit,
            continue_from,
            resource_version: q.value("resourceVersion").map(str::to_string),
            resource_version_match: q.value("resourceVersionMatch").map(str::to_string),
            timeout_seconds,
            allow_bookmarks: q.flag("allowWatchBookmarks")?,
            send_initial_events: match q.value("sendInitialEvents") {
                None => None,
                Some(_) => Some(q.flag("sendInitialEvents")?),
            },
        })
    }
}

/// Where the next page of a list starts: after `key`, in a list first served
/// at resourceVersion `rv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Continue {
    pub(crate) rv: u64,
    pub(crate) key: ObjKey,
}

impl Continue {
    /// The token, shaped like the real API server's (base64 of JSON).
    pub(crate) fn encode(&self) -> String {
        let inner = json!({
            "v": "meta.k8s.io/v1",
            "rv": self.rv,
            "start": format!("{}/{}", self.key.0, self.key.1),
        });
        URL_SAFE_NO_PAD.encode(inner.to_string())
    }

    pub(crate) fn decode(token: &str) -> ApiResult<Continue> {
        let invalid =
            |why: &str| ApiError::bad_request(format!("continue key is not valid: {why}"));
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|e| invalid(&e.to_string()))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| invalid(&e.to_string()))?;
        if v["v"] != "meta.k8s.io/v1" {
            return Err(invalid(
                "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            ));
        }
        let rv = v["rv"]
            .as_u64()
            .ok_or_else(|| invalid("incorrect encoded start resourceVersion"))?;
        let (ns, name) = v["start"]
            .as_str()
            .and_then(|s| s.split_once('/'))
            .ok_or_else(|| invalid("incorrect encoded start key"))?;
        Ok(Continue {
            rv,
            key: (ns.to_string(), name.to_string()),
        })
    }
}

/// Options of a DELETE, from its body (DeleteOptions) and query, the body
/// winning as in the real API server.
pub(super) fn delete_options(q: &Query, body: &Value) -> ApiResult<crate::store::DeleteOptions> {
    let mut opts = crate::store::DeleteOptions {
        grace_period_seconds: q.int("gracePeriodSeconds")?,
        propagation_policy: q.value("propagationPolicy").map(str::to_string),
        ..Default::default()
    };
    if q.value("orphanDependents").and_then(parse_bool) == Some(true) {
        opts.propagation_policy = Some("Orphan".into());
    }
    if let Some(g) = body.get("gracePeriodSeconds").filter(|v| !v.is_null()) {
        opts.grace_period_seconds = Some(
            g.as_i64()
                .ok_or_else(|| ApiError::bad_request("gracePeriodSeconds must be an integer"))?,
        );
    }
    match &body["propagationPolicy"] {
        Value::Null => {}
        Value::String(p) => opts.propagation_policy = Some(p.clone()),
        _ => return Err(ApiError::bad_request("propagationPolicy must be a string")),
    }
    if body["orphanDependents"] == json!(true) {
        opts.propagation_policy = Some("Orphan".into());
    }
    if let Some(p) = &opts.propagation_policy
        && !matches!(p.as_str(), "Orphan" | "Background" | "Foreground")
    {
        return Err(ApiError::bad_request(format!(
            "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: {p:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
        )));
    }
    opts.precondition_uid = body["preconditions"]["uid"].as_str().map(str::to_string);
    opts.precondition_rv = body["preconditions"]["resourceVersion"]
        .as_str()
        .map(str::to_string);
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decodes_percent_escapes_and_takes_the_first_value() {
        let q = Query::parse(Some(
            "labelSelector=app%3Dweb%2Ctier+in+(a%2Cb)&limit=5&limit=9&watch=1",
        ));
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a,b)"));
        let opts = ListOptions::from_query(&q).unwrap();
        assert_eq!(opts.limit, 5);
        assert!(q.flag("watch").unwrap());
        assert_eq!(
            opts.label_selector.as_deref(),
            Some("app=web,tier in (a,b)")
        );
    }

    #[test]
    fn malformed_numbers_and_flags_are_bad_requests_not_panics() {
        let q = Query::parse(Some("limit=abc"));
        assert_eq!(ListOptions::from_query(&q).unwrap_err().code, 400);
        let q = Query::parse(Some("allowWatchBookmarks=maybe"));
        assert_eq!(ListOptions::from_query(&q).unwrap_err().code, 400);
        assert_eq!(
            Query::parse(Some("watch=maybe"))
                .flag("watch")
                .unwrap_err()
                .code,
            400
        );
    }

    #[test]
    fn continue_token_round_trips_keys_of_both_scopes() {
        for key in [("demo", "web-1"), ("", "node-a")] {
            let c = Continue {
                rv: 77,
                key: (key.0.to_string(), key.1.to_string()),
            };
            let token = c.encode();
            assert!(
                token
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            );
            assert_eq!(Continue::decode(&token).unwrap(), c);
        }
    }

    #[test]
    fn garbage_continue_tokens_are_rejected_with_400() {
        for bad in [
            "!!!",
            "e30",
            URL_SAFE_NO_PAD.encode("{\"v\":\"x\"}").as_str(),
        ] {
            let err = Continue::decode(bad).unwrap_err();
            assert_eq!(err.code, 400, "{bad}");
            assert!(err.message.starts_with("continue key is not valid"));
        }
    }

    #[test]
    fn delete_options_body_overrides_query_and_checks_the_policy() {
        let q = Query::parse(Some("gracePeriodSeconds=30&propagationPolicy=Orphan"));
        let body = json!({"gracePeriodSeconds": 0, "propagationPolicy": "Foreground",
                          "preconditions": {"uid": "u1"}});
        let o = delete_options(&q, &body).unwrap();
        assert_eq!(o.grace_period_seconds, Some(0));
        assert_eq!(o.propagation_policy.as_deref(), Some("Foreground"));
        assert_eq!(o.precondition_uid.as_deref(), Some("u1"));
        let bad = delete_options(&Query::default(), &json!({"propagationPolicy": "Later"}));
        assert_eq!(bad.unwrap_err().code, 400);
        let orphan = delete_options(&Query::parse(Some("orphanDependents=true")), &Value::Null);
        assert_eq!(
            orphan.unwrap().propagation_policy.as_deref(),
            Some("Orphan")
        );
    }
}

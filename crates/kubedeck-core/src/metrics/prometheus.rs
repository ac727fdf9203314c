//! Reaching a Prometheus: `[metrics.prometheus]` in config.toml or
//! `--prometheus URL`, its credentials and a private CA.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use http::HeaderValue;
use prometheus_http_query::Client as PromClient;
use serde::{Deserialize, Serialize};

use super::source::MetricsError;
use crate::redact::{Masked, mask_passwords};

/// How to reach a Prometheus: `[metrics.prometheus]` in config.toml or
/// `--prometheus URL`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PrometheusConfig {
    pub url: String,
    pub bearer_token: Option<String>,
    pub basic_auth: Option<BasicAuth>,
    /// A PEM CA bundle for a Prometheus behind a private CA.
    pub ca_file: Option<PathBuf>,
    /// Longer than this, a query has failed.
    #[serde(with = "secs")]
    pub timeout: Duration,
    /// Longer than this, Prometheus shows as slow.
    #[serde(with = "secs")]
    pub slow_after: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        PrometheusConfig {
            url: String::new(),
            bearer_token: None,
            basic_auth: None,
            ca_file: None,
            timeout: Duration::from_secs(10),
            slow_after: Duration::from_secs(2),
        }
    }
}

mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

/// A client for the Prometheus `config` names (trusting its CA file, if
/// any) and the Authorization header its credentials make.
pub fn connect(
    config: &PrometheusConfig,
) -> Result<(PromClient, Option<HeaderValue>), MetricsError> {
    let url = config.url.trim_end_matches('/').to_string();
    let url_error = |e: prometheus_http_query::Error| MetricsError::Url {
        url: Masked(&url).to_string(),
        reason: mask_passwords(&e.to_string()).into_owned(),
    };
    let client = match &config.ca_file {
        Some(path) => PromClient::from(http_client_trusting(path)?, &url).map_err(url_error)?,
        None => PromClient::try_from(url.as_str()).map_err(url_error)?,
    };
    let authorization = match (&config.bearer_token, &config.basic_auth) {
        (Some(_), Some(_)) => {
            return Err(MetricsError::Credentials(
                "both a bearer token and basic auth are set".into(),
            ));
        }
        (Some(token), None) => Some(format!("Bearer {}", token.trim())),
        (None, Some(b)) => Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", b.username, b.password))
        )),
        (None, None) => None,
    }
    .map(|v| {
        let mut h = HeaderValue::try_from(v)
            .map_err(|_| MetricsError::Credentials("not valid in an HTTP header".into()))?;
        h.set_sensitive(true);
        Ok::<_, MetricsError>(h)
    })
    .transpose()?;
    Ok((client, authorization))
}

/// An HTTP client that trusts the PEM certificates in `path` besides the
/// usual roots, for a Prometheus behind a private CA.
fn http_client_trusting(path: &std::path::Path) -> Result<reqwest::Client, MetricsError> {
    let fail = |reason: String| MetricsError::CustomCa {
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| fail(format!("not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(fail("it holds no PEM certificate".into()));
    }
    reqwest::Client::builder()
        .tls_certs_merge(certs)
        .build()
        .map_err(|e| fail(format!("cannot build a TLS client with it: {e}")))
}

//! metrics.k8s.io/v1beta1 (NodeMetrics, PodMetrics): read-only views
//! computed by the usage model in `sim::metrics`, as metrics-server serves
//! them (plain JSON; no Table, no watch).

use axum::response::Response;
use chrono::Utc;

use super::query::ListOptions;
use super::response;
use super::{Req, ResourcePath};
use crate::error::{ApiError, ApiResult};
use crate::metrics::{node_metrics, pod_metrics};
use crate::resources;
use kubedeck_kube::selector::LabelSelector;

pub(super) fn serve(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let opts = ListOptions::from_query(&req.query)?;
    let label = opts
        .label_selector
        .as_deref()
        .map(LabelSelector::parse)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let now = Utc::now();
    let doc = if std::ptr::eq(t.res, &resources::NODE_METRICS) {
        let mut doc = node_metrics(&req.ctx, t.name.as_deref(), now)?;
        // The model lists every node; the selector applies to their labels.
        if let (Some(sel), Some(items)) = (&label, doc["items"].as_array_mut()) {
            items.retain(|i| sel.matches(&i["metadata"]["labels"]));
        }
        doc
    } else {
        pod_metrics(
            &req.ctx,
            t.ns.as_deref(),
            t.name.as_deref(),
            label.as_ref(),
            now,
        )?
    };
    Ok(response::ok(&doc))
}

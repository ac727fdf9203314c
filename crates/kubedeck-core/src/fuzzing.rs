//! Entry points for the fuzz targets in `fuzz/`: readers of user input
//! that are private to this crate.

use std::time::Duration;

use crate::metrics::ObjectKind;
use crate::metrics::promql::{Bindings, render};

/// Renders `template` with the given namespace and object names, as the
/// metrics source does for each chart.
pub fn promql_template(template: &str, namespace: &str, names: &[String]) -> String {
    let b = Bindings {
        kind: ObjectKind::Deployment,
        namespace,
        names,
        step: Duration::from_secs(15),
    };
    render(template, &b)
}

//! The simulated cluster's load and resource-usage model, and the ways it is
//! exposed: metrics.k8s.io and the Prometheus text format.

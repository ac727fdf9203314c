//! Server-side printing: `meta.k8s.io/v1` Tables with kubectl's columns.

//! Label and field selectors, in the query-string syntax and as the
//! `LabelSelector` objects that workloads carry.

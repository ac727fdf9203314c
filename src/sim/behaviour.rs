//! What a simulated container does when it runs: serve forever, or exit
//! after a while with a code, as batch and backup workloads do.

//! The daemonset controller.

use std::sync::Arc;

use super::Controller;

pub fn controllers() -> Vec<Arc<dyn Controller>> {
    Vec::new()
}

//! The simulated cluster's HTTP API.

use std::sync::Arc;

use super::controllers::Ctx;

pub fn router(_ctx: Arc<Ctx>) -> axum::Router {
    axum::Router::new()
}

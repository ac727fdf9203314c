//! Validation, as the API server applies it: a 422 naming each bad field.

use serde_json::Value;

use super::error::ApiResult;
use super::resources::ResourceDef;

/// Checks an object about to be stored; `old` is the stored version on update.
pub fn validate(_res: &'static ResourceDef, _obj: &Value, _old: Option<&Value>) -> ApiResult<()> {
    Ok(())
}

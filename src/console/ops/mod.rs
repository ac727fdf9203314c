#[cfg(test)]
mod backup_tests;
pub mod backup_view;

//! Settings of one simulated cluster: timing, authentication, watch window.

use std::time::Duration;

/// How long the simulated machinery takes. The defaults are short but
/// realistic: a killed pod's replacement is Ready in a few seconds, as in the
/// seed documents' recovery timelines.
#[derive(Debug, Clone)]
pub struct Delays {
    /// Pending → bound to a node.
    pub schedule: Duration,
    /// Pulling → Pulled.
    pub pull: Duration,
    /// Pulled → container Created and Started.
    pub start: Duration,
    /// Between a crash-looping container's start and its crash.
    pub crash_after: Duration,
    /// Base of the crash-loop and image-pull back-off (doubles per restart).
    pub backoff_base: Duration,
    /// Cap of the back-off.
    pub backoff_max: Duration,
    /// How long a container takes to stop after SIGTERM, at most the grace period.
    pub stop: Duration,
    /// Interval between a running container's application log lines.
    pub log_interval: Duration,
}

impl Default for Delays {
    fn default() -> Self {
        Delays {
            schedule: Duration::from_millis(100),
            pull: Duration::from_millis(700),
            start: Duration::from_millis(400),
            crash_after: Duration::from_secs(2),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(40),
            stop: Duration::from_millis(500),
            log_interval: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// Every request is the cluster admin.
    Anonymous,
    /// Bearer tokens: one admin, one read-only viewer.
    Tokens { admin: String, viewer: String },
}

const HPA_WINDOW_SCALE_ENV: &str = "KUBEDECK_SIM_HPA_WINDOW_SCALE";

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub delays: Delays,
    pub auth: AuthMode,
    /// How many changes are kept for watches to resume from; older
    /// resourceVersions get 410 Gone.
    pub watch_window: usize,
    /// Seed for everything random the simulator decides (noise, log text).
    pub seed: u64,
    /// Multiplies the stabilization windows and scaling-policy periods of
    /// every HPA without its own `sim.kubedeck.io/stabilization-scale`;
    /// the default is read from the environment variable
    /// `KUBEDECK_SIM_HPA_WINDOW_SCALE`.
    pub hpa_window_scale: Option<f64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            delays: Delays::default(),
            auth: AuthMode::Anonymous,
            watch_window: 20_000,
            seed: 1,
            hpa_window_scale: std::env::var(HPA_WINDOW_SCALE_ENV)
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0),
        }
    }
}

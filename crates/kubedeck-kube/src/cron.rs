//! Cron schedules as CronJobs take them: standard 5-field cron (via croner),
//! the `@yearly` … `@hourly` descriptors and `@every <duration>`, in a time
//! zone (UTC by default), with errors that read like robfig/cron's.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

#[derive(Debug, Clone)]
enum Rule {
    Cron(Box<Cron>),
    /// `@every 1h30m`: a fixed delay after the previous time.
    Every(chrono::Duration),
}

/// A parsed schedule in its time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    rule: Rule,
    tz: Tz,
}

impl Schedule {
    /// Parses `schedule` (optionally prefixed `TZ=`/`CRON_TZ=`) in
    /// `time_zone`. Errors read like robfig/cron's.
    pub fn parse(schedule: &str, time_zone: Option<&str>) -> Result<Schedule, String> {
        let mut tz = match time_zone {
            Some(name) => parse_tz(name)?,
            None => Tz::UTC,
        };
        let mut spec = schedule.trim();
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            let (prefix, rest) = spec
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("provided bad location {spec}: unknown time zone"))?;
            let (_, name) = prefix.split_once('=').unwrap_or(("", ""));
            tz = parse_tz(name)?;
            spec = rest.trim();
        }
        if spec.is_empty() {
            return Err("empty spec string".into());
        }
        if let Some(d) = spec.strip_prefix("@every ") {
            let delay = parse_go_duration(d.trim()).ok_or_else(|| {
                format!(
                    "failed to parse duration {spec}: time: invalid duration \"{}\"",
                    d.trim()
                )
            })?;
            // robfig rounds down to whole seconds, at least one.
            let secs = delay.num_seconds().max(1);
            return Ok(Schedule {
                rule: Rule::Every(chrono::Duration::seconds(secs)),
                tz,
            });
        }
        let pattern = if spec.starts_with('@') {
            match spec.to_ascii_lowercase().as_str() {
                "@yearly" | "@annually" => "0 0 1 1 *",
                "@monthly" => "0 0 1 * *",
                "@weekly" => "0 0 * * 0",
                "@daily" | "@midnight" => "0 0 * * *",
                "@hourly" => "0 * * * *",
                _ => return Err(format!("unrecognized descriptor: {spec}")),
            }
        } else {
            let fields: Vec<&str> = spec.split_whitespace().collect();
            if fields.len() != 5 {
                return Err(format!(
                    "expected exactly 5 fields, found {}: [{}]",
                    fields.len(),
                    fields.join(" ")
                ));
            }
            spec
        };
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(pattern)
            .map_err(|e| e.to_string())?;
        Ok(Schedule {
            rule: Rule::Cron(Box::new(cron)),
            tz,
        })
    }

    /// The first scheduled time strictly after `t`, as robfig's `Next`.
    pub fn next(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.rule {
            Rule::Every(d) => {
                let whole = t.timestamp();
                Utc.timestamp_opt(whole, 0).single().map(|s| s + *d)
            }
            Rule::Cron(c) => c
                .find_next_occurrence(&t.with_timezone(&self.tz), false)
                .ok()
                .map(|n| n.with_timezone(&Utc)),
        }
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }
}

pub fn parse_tz(name: &str) -> Result<Tz, String> {
    // Go's LoadLocation: "" and "UTC" are UTC, "Local" is the host's zone.
    match name {
        "" | "UTC" | "Local" => Ok(Tz::UTC),
        n => Tz::from_str(n).map_err(|_| format!("unknown time zone {n}")),
    }
}

/// Go's `time.ParseDuration` for the units a schedule uses: `1h30m`, `90s`.
fn parse_go_duration(s: &str) -> Option<chrono::Duration> {
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    (total.is_finite() && total < 1e12)
        .then(|| chrono::Duration::milliseconds((total * 1000.0) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn schedules_follow_cron_descriptors_and_time_zones() {
        let s = Schedule::parse("0 3 * * *", Some("Europe/Berlin")).unwrap();
        assert_eq!(
            s.next(t("2024-01-10T00:00:00Z")),
            Some(t("2024-01-10T02:00:00Z"))
        );
        assert_eq!(
            s.next(t("2024-07-10T00:00:00Z")),
            Some(t("2024-07-10T01:00:00Z"))
        );
        let utc = Schedule::parse("*/15 * * * *", None).unwrap();
        assert_eq!(
            utc.next(t("2024-01-10T10:15:00Z")),
            Some(t("2024-01-10T10:30:00Z"))
        );
        assert_eq!(
            utc.next(t("2024-01-10T10:14:59Z")),
            Some(t("2024-01-10T10:15:00Z"))
        );
        let hourly = Schedule::parse("@hourly", None).unwrap();
        assert_eq!(
            hourly.next(t("2024-01-10T10:15:00Z")),
            Some(t("2024-01-10T11:00:00Z"))
        );
        let weekly = Schedule::parse("@weekly", None).unwrap();
        assert_eq!(
            weekly.next(t("2024-01-10T10:15:00Z")),
            Some(t("2024-01-14T00:00:00Z"))
        );
        let every = Schedule::parse("@every 1h30m", None).unwrap();
        assert_eq!(
            every.next(t("2024-01-10T10:15:00Z")),
            Some(t("2024-01-10T11:45:00Z"))
        );
        let prefixed = Schedule::parse("CRON_TZ=America/New_York 0 9 * * 1-5", None).unwrap();
        assert_eq!(
            prefixed.next(t("2024-01-12T15:00:00Z")),
            Some(t("2024-01-15T14:00:00Z"))
        );

        assert!(
            Schedule::parse("* * * * * *", None)
                .unwrap_err()
                .contains("expected exactly 5 fields")
        );
        assert!(Schedule::parse("61 * * * *", None).is_err());
        assert!(Schedule::parse("@fortnightly", None).is_err());
        assert!(Schedule::parse("0 3 * * *", Some("Mars/Olympus_Mons")).is_err());
    }
}

//! CronJob schedules and time zones, as read from the cluster: any text
//! parses or fails with a message, and the next run can be asked for.
#![no_main]

use chrono::{TimeZone, Utc};
use kubedeck_kube::cron::Schedule;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, Option<&str>)| {
    let (schedule, tz) = input;
    if let Ok(s) = Schedule::parse(schedule, tz) {
        if let Some(t) = Utc.timestamp_opt(1_700_000_000, 0).single() {
            let _ = s.next(t);
        }
    }
});

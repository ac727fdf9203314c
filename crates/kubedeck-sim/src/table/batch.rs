//! Jobs and CronJobs.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::cells::{
    age, arr, containers_cells, format_selector, has_condition, int, name, or_none, s,
    selector_string, since,
};
use super::{AGE, CONTAINERS, Col, IMAGES, NAME, Printer, SELECTOR, col, is};
use crate::resources::{self, ResourceDef};
use crate::store::parse_time;
use kubedeck_kube::age::human_duration;

/// The columns and row printer of a kind of this group.
pub(super) fn printer(res: &ResourceDef) -> Option<(Vec<Col>, Printer)> {
    if is(res, &resources::JOBS) {
        Some((
            vec![
                NAME,
                col("Status", "string", "Status of the job."),
                col(
                    "Completions",
                    "string",
                    "The desired number of successfully finished pods the job should be run with.",
                ),
                col("Duration", "string", "Time required to complete the job."),
                AGE,
                CONTAINERS,
                IMAGES,
                SELECTOR,
            ],
            job_row,
        ))
    } else if is(res, &resources::CRONJOBS) {
        Some((
            vec![
                NAME,
                col(
                    "Schedule",
                    "string",
                    "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
                ),
                col(
                    "Timezone",
                    "string",
                    "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
                ),
                col(
                    "Suspend",
                    "boolean",
                    "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.",
                ),
                col(
                    "Active",
                    "integer",
                    "A list of pointers to currently running jobs.",
                ),
                col(
                    "Last Schedule",
                    "string",
                    "Information when was the last time the job was successfully scheduled.",
                ),
                AGE,
                CONTAINERS,
                IMAGES,
                SELECTOR,
            ],
            cronjob_row,
        ))
    } else {
        None
    }
}

fn job_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let st = &o["status"];
    let succeeded = int(&st["succeeded"]);
    let completions = match spec["completions"].as_i64() {
        Some(c) => format!("{succeeded}/{c}"),
        None => {
            let par = int(&spec["parallelism"]);
            if par > 1 {
                format!("{succeeded}/1 of {par}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let start = st["startTime"].as_str().and_then(parse_time);
    let done = st["completionTime"].as_str().and_then(parse_time);
    let duration = match (start, done) {
        (None, _) => String::new(),
        (Some(s), None) => human_duration(now - s),
        (Some(s), Some(d)) => human_duration(d - s),
    };
    let status = if has_condition(st, "Complete") {
        "Complete"
    } else if has_condition(st, "Failed") {
        "Failed"
    } else if !o["metadata"]["deletionTimestamp"].is_null() {
        "Terminating"
    } else if has_condition(st, "Suspended") {
        "Suspended"
    } else if has_condition(st, "FailureTarget") {
        "FailureTarget"
    } else if has_condition(st, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let (names, images) = containers_cells(&spec["template"]["spec"]);
    (
        vec![
            name(o),
            json!(status),
            json!(completions),
            json!(duration),
            age(o, now),
            json!(names),
            json!(images),
            json!(selector_string(&spec["selector"])),
        ],
        None,
    )
}

fn cronjob_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let st = &o["status"];
    let last = if st["lastScheduleTime"].is_string() {
        since(&st["lastScheduleTime"], now)
    } else {
        "<none>".into()
    };
    let suspend = match spec["suspend"].as_bool() {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let job_spec = &spec["jobTemplate"]["spec"];
    let (names, images) = containers_cells(&job_spec["template"]["spec"]);
    (
        vec![
            name(o),
            json!(s(&spec["schedule"])),
            json!(or_none(s(&spec["timeZone"]))),
            json!(suspend),
            json!(arr(&st["active"]).len()),
            json!(last),
            age(o, now),
            json!(names),
            json!(images),
            json!(format_selector(&job_spec["selector"])),
        ],
        None,
    )
}

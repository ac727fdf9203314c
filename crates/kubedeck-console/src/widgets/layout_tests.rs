use super::*;
use crate::input::action::View;
use crate::seed_fixture::seed_cluster;
use crate::test_support::{now, sources};
use crate::views::{Query, table_for};

const WIDTHS: [u16; 5] = [80, 100, 120, 160, 220];

#[test]
fn abbreviations_keep_what_tells_values_apart() {
    assert_eq!(abbreviate("prod-worker-3", 9, Keep::End), "prod-w…-3");
    assert_eq!(
        abbreviate("selfmonitor/apps/web-app:v3.8.0", 28, Keep::Image),
        "selfmonitor/…/web-app:v3.8.0"
    );
    assert_eq!(
        abbreviate("transactions-service-5c2e8f1a9b-kqzvd", 20, Keep::End),
        "transactions-…-kqzvd"
    );
    assert_eq!(
        abbreviate("OOMKilled 137 (CrashLoopBackOff)", 14, Keep::Head),
        "OOMKilled 137…"
    );
    assert_eq!(abbreviate("daily at 02:00", 8, Keep::Text), "daily a…");
    assert_eq!(abbreviate("node-3", 9, Keep::End), "node-3", "fits: as is");
    assert_eq!(
        abbreviate("registry.k8s.io/coredns/coredns:v1.11.3", 14, Keep::Image),
        "regis…:v1.11.3",
        "when the name does not fit, the tag stays"
    );
}

/// The rows a view lists on the seed cluster, formatted as on screen.
fn rows(view: View) -> (&'static [Column], Vec<Vec<Cell>>, usize) {
    let cache = seed_cluster();
    let t = table_for(view).expect("a table view");
    let src = sources(&cache);
    let rows = t
        .rows(src, &Query::default(), now())
        .iter()
        .filter_map(|k| t.cells(src, k, now()))
        .collect();
    (t.columns(), rows, t.flex_column())
}

/// The rows as drawn: the shown cells, cut.
fn cut(columns: &[Column], rows: &[Vec<Cell>], laid: &Laid) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            (0..laid.shown.len())
                .map(|j| laid.text(columns, r, j).into_owned())
                .collect()
        })
        .collect()
}

/// A screenful of rows, as a 30-line terminal shows them.
const PAGE: usize = 25;

/// Whether `shown` is `full` cut as `keep` allows: what must stay, stayed.
fn keeps(keep: Keep, full: &str, shown: &str) -> bool {
    if shown == full {
        return true;
    }
    let Some((head, tail)) = shown.split_once('…') else {
        return false;
    };
    let kept_tail = full.len() - tail_len(keep, full);
    match keep {
        Keep::Whole => false,
        Keep::End | Keep::Image => {
            full.starts_with(head) && full.ends_with(tail) && full.len() - tail.len() <= kept_tail
        }
        Keep::Head => {
            tail.is_empty()
                && full.starts_with(head)
                && head.contains(full.split(' ').next().unwrap_or(""))
        }
        Keep::Text => tail.is_empty() && full.starts_with(head),
    }
}

#[test]
fn every_width_fits_keeps_key_parts_and_drops_before_it_cuts() {
    for view in [
        View::Pods,
        View::Workloads,
        View::Backups,
        View::Hpas,
        View::Services,
        View::Nodes,
    ] {
        let (columns, all, flex) = rows(view);
        assert!(!all.is_empty(), "{view:?} lists rows on the seed");
        for (width, full) in WIDTHS
            .into_iter()
            .flat_map(|w| all.chunks(PAGE).map(move |p| (w, p)))
        {
            let laid = fit(columns, full, width, 0, flex);
            let cut = cut(columns, full, &laid);
            let at = format!("{view:?} at {width}");
            let used: usize = laid
                .columns
                .iter()
                .map(|(_, w)| usize::from(*w))
                .sum::<usize>()
                + SPACING * (laid.columns.len() - 1);
            assert!(used <= usize::from(width) - 2, "{at}: {used} columns used");
            let shown: Vec<&Column> = laid
                .columns
                .iter()
                .map(|(name, _)| columns.iter().find(|c| c.name == *name).expect("a column"))
                .collect();
            assert!(
                columns
                    .iter()
                    .filter(|c| c.priority == 0)
                    .all(|k| shown.contains(&k)),
                "{at}: a key column is missing"
            );
            let m = measure(columns, full, 0);
            for (j, (c, (_, w))) in shown.iter().zip(&laid.columns).enumerate() {
                let i = columns.iter().position(|x| x == *c).expect("a column");
                assert!(
                    usize::from(*w) >= c.name.chars().count(),
                    "{at}: {} header cut",
                    c.name
                );
                for (row, cells) in full.iter().zip(&cut) {
                    assert!(
                        keeps(c.keep, &row[i].text, &cells[j]),
                        "{at}: {} shows {:?} for {:?}",
                        c.name,
                        cells[j],
                        row[i].text
                    );
                }
                if usize::from(*w) < m[i].need && c.priority > 0 {
                    let less: Vec<&str> = shown
                        .iter()
                        .filter(|o| o.priority > c.priority)
                        .map(|o| o.name)
                        .collect();
                    assert!(
                        less.is_empty(),
                        "{at}: {} is cut while {less:?} show",
                        c.name
                    );
                }
            }
        }
    }
}

/// The headers shown for a view at `width`.
fn headers(view: View, width: u16) -> Vec<&'static str> {
    let (columns, mut rows, flex) = rows(view);
    rows.truncate(PAGE);
    fit(columns, &rows, width, 0, flex)
        .columns
        .iter()
        .map(|(n, _)| *n)
        .collect()
}

#[test]
fn narrow_terminals_drop_the_least_important_columns_first() {
    let at = |w| headers(View::Pods, w);
    assert_eq!(
        at(220),
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "CPU",
            "MEM",
            "AGE",
            "IP",
            "NODE"
        ]
    );
    assert_eq!(at(80), ["NAMESPACE", "NAME", "STATUS"], "AGE before STATUS");
    let at_100 = at(100);
    for key in ["NAMESPACE", "NAME", "READY", "STATUS"] {
        assert!(at_100.contains(&key), "{key} at 100: {at_100:?}");
    }
    assert!(!at_100.contains(&"IP"), "IP goes first: {at_100:?}");
    assert!(at(80).len() <= at(100).len() && at(100).len() <= at(120).len());
    let workloads = headers(View::Workloads, 100);
    for key in ["NAMESPACE", "NAME", "READY", "IMAGES", "ROLLOUT"] {
        assert!(workloads.contains(&key), "{key}: {workloads:?}");
    }
    assert!(!workloads.contains(&"AGE"), "{workloads:?}");
}

#[test]
fn widths_follow_the_visible_rows_not_fixed_shares() {
    let (columns, full, flex) = rows(View::Backups);
    let laid = fit(columns, &full, 220, 0, flex);
    let widest = |i: usize| {
        full.iter()
            .map(|r| r[i].text.chars().count())
            .max()
            .unwrap_or(0)
    };
    let schedule = columns
        .iter()
        .position(|c| c.name == "SCHEDULE")
        .expect("SCHEDULE");
    let w = laid
        .columns
        .iter()
        .find(|(n, _)| *n == "SCHEDULE")
        .map(|(_, w)| *w);
    assert_eq!(
        w.map(usize::from),
        Some(widest(schedule).max("SCHEDULE".len())),
        "as wide as its longest schedule, however wide the terminal"
    );
}

#[test]
fn wide_mode_shows_every_column_whole_from_the_scrolled_one() {
    let (columns, full, _) = rows(View::Pods);
    let laid = wide(columns, &full, 0, 0);
    assert_eq!(laid.columns.len(), columns.len());
    let whole: Vec<Vec<String>> = full
        .iter()
        .map(|r| r.iter().map(|c| c.text.clone()).collect())
        .collect();
    assert_eq!(cut(columns, &full, &laid), whole, "nothing is cut");
    let laid = wide(columns, &full, 0, 3);
    assert_eq!(laid.columns[0].0, "STATUS");
    assert_eq!(laid.hidden, 3);
    assert_eq!(cut(columns, &full, &laid)[0][0], full[0][3].text);
    let laid = wide(columns, &full, 0, 99);
    assert_eq!(laid.columns.len(), 1, "scrolled no further than the last");
}

//! Sparklines as text: one block character per column, and the numbers
//! beside them formatted per metric.

use kubedeck_core::metrics::{Metric, Point};

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// What an empty sparkline cell shows (drawn dim).
pub(crate) const PLACEHOLDER: char = '·';

/// `points` over `[start, end]` (unix seconds) as `width` block characters,
/// scaled from the lowest value to the highest, so a trend shows; a flat
/// line sits at the floor when zero and mid-height otherwise. Points
/// falling into one column are averaged; a column without a point is a
/// space, so the line shows where history starts. None without points.
pub(crate) fn sparkline(points: &[Point], start: i64, end: i64, width: usize) -> Option<String> {
    let cols = columns(points, start, end, width)?;
    let values = cols.iter().flatten();
    let hi = values.clone().fold(f64::MIN, |a, v| a.max(*v));
    let lo = values.fold(f64::MAX, |a, v| a.min(*v));
    let span = hi - lo;
    let flat = if hi == 0.0 { BLOCKS[0] } else { BLOCKS[3] };
    Some(
        cols.iter()
            .map(|c| match c {
                None => ' ',
                Some(_) if span <= hi.abs() * 1e-9 => flat,
                Some(v) => {
                    let level = ((v - lo) / span * (BLOCKS.len() - 1) as f64).round() as usize;
                    BLOCKS[level.min(BLOCKS.len() - 1)]
                }
            })
            .collect(),
    )
}

/// The average of each of `width` equal slices of `[start, end]`.
fn columns(points: &[Point], start: i64, end: i64, width: usize) -> Option<Vec<Option<f64>>> {
    if width == 0 || points.is_empty() {
        return None;
    }
    let span = (end - start).max(1) as f64;
    let mut sums = vec![(0.0, 0u32); width];
    let mut any = false;
    for p in points.iter().filter(|p| p.v.is_finite()) {
        let x = ((p.t - start) as f64 / span * (width - 1) as f64).round();
        if x < 0.0 || x > (width - 1) as f64 {
            continue;
        }
        let s = &mut sums[x as usize];
        s.0 += p.v;
        s.1 += 1;
        any = true;
    }
    any.then(|| {
        sums.into_iter()
            .map(|(sum, n)| (n > 0).then(|| sum / f64::from(n)))
            .collect()
    })
}

/// A value of `metric` as the console prints it.
pub(crate) fn format(metric: Metric, v: f64) -> String {
    match metric {
        Metric::Cpu => {
            if v >= 1.0 {
                format!("{v:.2}")
            } else {
                format!("{:.0}m", v * 1000.0)
            }
        }
        Metric::Memory => {
            let mib = v / 1048576.0;
            if mib >= 1024.0 {
                format!("{:.1}Gi", mib / 1024.0)
            } else {
                format!("{mib:.0}Mi")
            }
        }
        Metric::RequestRate => format!("{v:.1}/s"),
        Metric::ErrorRatio => format!("{:.1}%", v * 100.0),
        Metric::P95Latency => {
            if v >= 1.0 {
                format!("{v:.2}s")
            } else {
                format!("{:.0}ms", v * 1000.0)
            }
        }
        Metric::HpaTarget | Metric::HpaUtilization => format!("{v:.0}%"),
        Metric::Replicas
        | Metric::Restarts
        | Metric::HpaCurrent
        | Metric::HpaDesired
        | Metric::HpaMin
        | Metric::HpaMax => format!("{v:.0}"),
    }
}

/// A short name for a metric in the chart's list.
pub(crate) fn label(metric: Metric) -> &'static str {
    match metric {
        Metric::Cpu => "cpu",
        Metric::Memory => "mem",
        Metric::RequestRate => "req",
        Metric::ErrorRatio => "5xx",
        Metric::P95Latency => "p95",
        Metric::Replicas => "replicas",
        Metric::Restarts => "restarts",
        Metric::HpaCurrent => "replicas",
        Metric::HpaDesired => "desired",
        Metric::HpaMin => "min",
        Metric::HpaMax => "max",
        Metric::HpaTarget => "target",
        Metric::HpaUtilization => "cpu",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(vals: &[(i64, f64)]) -> Vec<Point> {
        vals.iter().map(|(t, v)| Point { t: *t, v: *v }).collect()
    }

    #[test]
    fn a_rising_series_climbs_the_blocks_and_gaps_stay_blank() {
        let p = pts(&[
            (0, 0.0),
            (10, 1.0),
            (20, 2.0),
            (30, 3.0),
            (40, 4.0),
            (70, 7.0),
        ]);
        assert_eq!(sparkline(&p, 0, 70, 8).as_deref(), Some("▁▂▃▄▅  █"));
        let offset: Vec<Point> = p
            .iter()
            .map(|q| Point {
                t: q.t,
                v: q.v + 100.0,
            })
            .collect();
        assert_eq!(
            sparkline(&offset, 0, 70, 8).as_deref(),
            Some("▁▂▃▄▅  █"),
            "scaled from the lowest value, so a trend on a high base shows"
        );
        assert_eq!(sparkline(&[], 0, 70, 8), None);
        assert_eq!(
            sparkline(&pts(&[(0, 5.0), (70, 5.0)]), 0, 70, 4).as_deref(),
            Some("▄  ▄"),
            "a flat non-zero line is not at the floor"
        );
        assert_eq!(
            sparkline(&pts(&[(0, 0.0), (70, 0.0)]), 0, 70, 3).as_deref(),
            Some("▁ ▁")
        );
    }

    #[test]
    fn values_read_as_kubectl_top_and_dashboards_print_them() {
        assert_eq!(format(Metric::Cpu, 0.125), "125m");
        assert_eq!(format(Metric::Cpu, 2.5), "2.50");
        assert_eq!(format(Metric::Memory, 64.0 * 1048576.0), "64Mi");
        assert_eq!(format(Metric::ErrorRatio, 0.012), "1.2%");
        assert_eq!(format(Metric::P95Latency, 0.2), "200ms");
        assert_eq!(format(Metric::HpaCurrent, 3.0), "3");
    }
}

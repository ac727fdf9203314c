//! `:` commands: k9s-style resource aliases and a few verbs.

use super::input::action::View;

/// The aliases each view answers to, first the canonical one.
pub(crate) const ALIASES: &[(View, &[&str])] = &[
    (View::Overview, &["overview", "home"]),
    (View::Namespaces, &["namespaces", "ns", "namespace"]),
    (View::Services, &["services", "svc", "service"]),
    (
        View::Workloads,
        &[
            "workloads",
            "deploy",
            "deployments",
            "sts",
            "statefulsets",
            "ds",
            "daemonsets",
            "wl",
        ],
    ),
    (View::Hpas, &["hpa", "hpas", "horizontalpodautoscalers"]),
    (View::Pods, &["pods", "po", "pod"]),
    (View::Events, &["events", "ev", "event"]),
    (View::Jobs, &["jobs", "job"]),
    (View::CronJobs, &["cj", "cronjobs", "cronjob"]),
    (View::Nodes, &["nodes", "no", "node"]),
    (View::Backups, &["backups", "backup", "bk"]),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ColonCommand {
    Goto(View),
    /// `:ns NAME` limits to a namespace; `:ns all` (or `-A`) shows all.
    Namespace(Option<String>),
    Context(String),
    Quit,
}

pub(crate) fn parse(line: &str) -> Result<ColonCommand, String> {
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else {
        return Err(
            "type a view (pods, svc, deploy, hpa, ns, events, jobs, cj, nodes) or q".into(),
        );
    };
    let arg = words.next();
    match (first, arg) {
        ("q" | "q!" | "quit", _) => return Ok(ColonCommand::Quit),
        ("ctx" | "context", Some(name)) => return Ok(ColonCommand::Context(name.to_string())),
        ("ns" | "namespace", Some("all" | "-A")) => return Ok(ColonCommand::Namespace(None)),
        ("ns" | "namespace", Some(ns)) => return Ok(ColonCommand::Namespace(Some(ns.to_string()))),
        _ => {}
    }
    ALIASES
        .iter()
        .find(|(_, names)| names.contains(&first))
        .map(|(view, _)| ColonCommand::Goto(*view))
        .ok_or_else(|| format!("unknown command {first:?}; try :pods, :svc, :deploy, :hpa, :ns, :events, :jobs, :cj, :nodes, :ctx NAME or :q"))
}

/// Completions for a partly typed command, for Tab.
pub(crate) fn complete(prefix: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = ALIASES
        .iter()
        .flat_map(|(_, names)| names.iter().copied())
        .filter(|n| n.starts_with(prefix))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k9s_aliases_reach_their_views() {
        for (alias, view) in [
            ("po", View::Pods),
            ("svc", View::Services),
            ("deploy", View::Workloads),
            ("sts", View::Workloads),
            ("hpa", View::Hpas),
            ("ns", View::Namespaces),
            ("events", View::Events),
            ("jobs", View::Jobs),
            ("cj", View::CronJobs),
            ("nodes", View::Nodes),
        ] {
            assert_eq!(parse(alias), Ok(ColonCommand::Goto(view)), "{alias}");
        }
        assert_eq!(
            parse("ns demo"),
            Ok(ColonCommand::Namespace(Some("demo".into())))
        );
        assert_eq!(parse("ns all"), Ok(ColonCommand::Namespace(None)));
        assert_eq!(
            parse("ctx kind-prod"),
            Ok(ColonCommand::Context("kind-prod".into()))
        );
        assert!(
            parse("pdos")
                .unwrap_err()
                .contains("unknown command \"pdos\"")
        );
    }

    #[test]
    fn completion_offers_matching_aliases() {
        assert_eq!(complete("de"), vec!["deploy", "deployments"]);
        assert!(complete("zz").is_empty());
    }
}

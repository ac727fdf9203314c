//! `:` commands: k9s-style resource aliases and a few verbs; any other
//! word is a resource name, for discovery to resolve.

use super::cluster::discovery::ResourceInfo;
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
    (View::ApiResources, &["api-resources", "ar"]),
];

/// The built-in view of a resource, where it has one: built-in views keep
/// their richer columns.
pub(crate) fn builtin_view(r: &ResourceInfo) -> Option<View> {
    Some(match (r.group.as_str(), r.plural.as_str()) {
        ("", "pods") => View::Pods,
        ("", "services") => View::Services,
        ("", "namespaces") => View::Namespaces,
        ("", "nodes") => View::Nodes,
        ("", "events") | ("events.k8s.io", "events") => View::Events,
        ("apps", "deployments" | "statefulsets" | "daemonsets") => View::Workloads,
        ("autoscaling", "horizontalpodautoscalers") => View::Hpas,
        ("batch", "jobs") => View::Jobs,
        ("batch", "cronjobs") => View::CronJobs,
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ColonCommand {
    Goto(View),
    /// `:ns NAME` limits to a namespace; `:ns all` (or `-A`) shows all.
    Namespace(Option<String>),
    Context(String),
    /// A name that is no built-in view's: a resource, if discovery knows it.
    Resource(String),
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
    if arg.is_some() {
        return Err(format!(
            "{first:?} takes no argument; :api-resources lists what there is"
        ));
    }
    Ok(ALIASES
        .iter()
        .find(|(_, names)| names.contains(&first))
        .map_or_else(
            || ColonCommand::Resource(first.to_string()),
            |(view, _)| ColonCommand::Goto(*view),
        ))
}

/// Why a name is no resource, given what discovery said.
pub(crate) fn unknown(name: &str, loaded: bool, error: Option<&str>) -> String {
    match (loaded, error) {
        (true, _) => {
            format!("unknown command or resource {name:?}; :api-resources lists the resources")
        }
        (false, Some(e)) => {
            format!("unknown command {name:?}, and the server's resource list is unavailable: {e}")
        }
        (false, None) => {
            format!("unknown command {name:?}; the server's resource list is still loading")
        }
    }
}

/// Completions for a partly typed command, for Tab: the views' aliases
/// and every name of every resource.
pub(crate) fn complete(prefix: &str, resources: &[ResourceInfo]) -> Vec<String> {
    let mut out: Vec<String> = ALIASES
        .iter()
        .flat_map(|(_, names)| names.iter().map(|n| n.to_string()))
        .chain(resources.iter().flat_map(ResourceInfo::names))
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
        assert_eq!(parse("pdos"), Ok(ColonCommand::Resource("pdos".into())));
        assert_eq!(parse("ar"), Ok(ColonCommand::Goto(View::ApiResources)));
    }

    #[test]
    fn completion_offers_matching_aliases_and_resource_names() {
        assert_eq!(complete("de", &[]), vec!["deploy", "deployments"]);
        let resources = crate::cluster::discovery::tests::sample();
        assert_eq!(
            complete("in", &resources),
            vec!["ing", "ingress", "ingresses", "ingresses.networking.k8s.io"]
        );
        assert_eq!(complete("pd", &resources), vec!["pdb"]);
        assert!(complete("zz", &resources).is_empty());
    }

    #[test]
    fn kinds_with_a_built_in_view_keep_it() {
        let resources = crate::cluster::discovery::tests::sample();
        let view =
            |name| crate::cluster::discovery::resolve(&resources, name).and_then(builtin_view);
        assert_eq!(view("deployments.apps"), Some(View::Workloads));
        assert_eq!(view("ev"), Some(View::Events));
        assert_eq!(view("rs"), None);
        assert_eq!(view("cm"), None);
    }
}

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
    /// `:theme NAME` draws with another theme.
    Theme(String),
    /// A name that is no built-in view's: a resource, if discovery knows it.
    Resource(String),
    /// `:xray KIND [NAME] [-n NS]`: an owner tree.
    Xray(crate::xray::Target),
    Quit,
}

pub(crate) fn parse(line: &str) -> Result<ColonCommand, String> {
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else {
        return Err(
            "type a view (pods, svc, deploy, hpa, ns, events, jobs, cj, nodes) or q".into(),
        );
    };
    if first == "xray" {
        return crate::xray::parse(words).map(ColonCommand::Xray);
    }
    let arg = words.next();
    match (first, arg) {
        ("q" | "q!" | "quit", _) => return Ok(ColonCommand::Quit),
        ("ctx" | "context", Some(name)) => return Ok(ColonCommand::Context(name.to_string())),
        ("theme", Some(name)) => return Ok(ColonCommand::Theme(name.to_string())),
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

/// Why a name is no resource, given what discovery said, with the closest
/// names there are.
pub(crate) fn unknown(name: &str, resources: &[ResourceInfo], error: Option<&str>) -> String {
    let loaded = !resources.is_empty();
    match (loaded, error) {
        (true, _) => {
            let close = closest(name, resources);
            if close.is_empty() {
                format!("unknown command or resource {name:?}; :api-resources lists the resources")
            } else {
                format!(
                    "unknown command or resource {name:?}; did you mean {}?",
                    close.join(", ")
                )
            }
        }
        (false, Some(e)) => {
            format!("unknown command {name:?}, and the server's resource list is unavailable: {e}")
        }
        (false, None) => {
            format!("unknown command {name:?}; the server's resource list is still loading")
        }
    }
}

/// Command words that are no view's alias, for completion.
const VERB_WORDS: &[&str] = &[
    "ns",
    "ctx",
    "theme",
    "exec",
    "runbooks",
    "rb",
    "recovery",
    "pf",
    "port-forwards",
    "quit",
    "xray",
];

/// What the cluster and the kubeconfig offer to complete arguments with.
#[derive(Clone, Copy, Default)]
pub(crate) struct Known<'a> {
    pub resources: &'a [ResourceInfo],
    pub namespaces: &'a [String],
    pub contexts: &'a [String],
    pub themes: &'a [String],
    pub runbooks: &'a [String],
    /// What an owner tree can start from, for `:xray KIND `.
    pub xray: &'a [(crate::xray::XrayKind, String)],
}

/// Completions for a partly typed command line, for Tab, as whole lines:
/// the command words and every resource name; after `ns `, the
/// namespaces (and `all`); after `ctx `, the contexts; after `xray `, a
/// kind, then its objects' names.
pub(crate) fn complete(line: &str, known: Known<'_>) -> Vec<String> {
    let line = line.trim_start();
    if let Some((command, arg)) = line.split_once(' ') {
        let arg = arg.trim_start();
        let names: Vec<&str> = match command {
            "ns" | "namespace" => std::iter::once("all")
                .chain(known.namespaces.iter().map(String::as_str))
                .collect(),
            "ctx" | "context" => known.contexts.iter().map(String::as_str).collect(),
            "theme" => known.themes.iter().map(String::as_str).collect(),
            "rb" | "runbook" | "runbooks" => known.runbooks.iter().map(String::as_str).collect(),
            "xray" => return crate::xray::complete(arg, known.xray),
            _ => return Vec::new(),
        };
        return names
            .into_iter()
            .filter(|n| n.starts_with(arg))
            .map(|n| format!("{command} {n}"))
            .collect();
    }
    let mut out: Vec<String> = ALIASES
        .iter()
        .flat_map(|(_, names)| names.iter().map(|n| n.to_string()))
        .chain(VERB_WORDS.iter().map(|w| w.to_string()))
        .chain(known.resources.iter().flat_map(ResourceInfo::names))
        .filter(|n| n.starts_with(line))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The longest start the candidates share.
pub(crate) fn common_prefix(candidates: &[String]) -> &str {
    let Some(first) = candidates.first() else {
        return "";
    };
    let mut end = first.len();
    for c in &candidates[1..] {
        end = first
            .char_indices()
            .zip(c.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    &first[..end]
}

/// Up to three of `names` close to a mistyped `name`, closest first.
pub(crate) fn close_to(name: &str, names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut close: Vec<(f64, String)> = names
        .into_iter()
        .map(|n| (strsim::jaro_winkler(name, &n), n))
        .filter(|(score, _)| *score > 0.8)
        .collect();
    close.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    close.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Up to three known command words or resource names close to a mistyped one.
pub(crate) fn closest(name: &str, resources: &[ResourceInfo]) -> Vec<String> {
    let known = complete(
        "",
        Known {
            resources,
            ..Known::default()
        },
    );
    close_to(name, known)
        .into_iter()
        .map(|n| format!(":{n}"))
        .collect()
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
        let none = Known::default();
        assert_eq!(complete("de", none), vec!["deploy", "deployments"]);
        assert_eq!(complete("ba", none), vec!["backup", "backups"]);
        assert_eq!(common_prefix(&complete("ba", none)), "backup");
        assert_eq!(complete("rec", none), vec!["recovery"]);
        let resources = crate::cluster::discovery::tests::sample();
        let known = Known {
            resources: &resources,
            ..none
        };
        assert_eq!(
            complete("in", known),
            vec!["ing", "ingress", "ingresses", "ingresses.networking.k8s.io"]
        );
        assert_eq!(complete("pd", known), vec!["pdb"]);
        assert!(complete("zz", known).is_empty());
    }

    #[test]
    fn completion_offers_namespaces_and_contexts_as_arguments() {
        let namespaces = ["default".to_string(), "demo".into(), "shop".into()];
        let contexts = ["kind-dev".to_string(), "prod-eu".into()];
        let themes = ["dark".to_string(), "light".into(), "mine".into()];
        let runbooks = ["db-failover".to_string(), "disk-full".into()];
        let known = Known {
            resources: &[],
            namespaces: &namespaces,
            contexts: &contexts,
            themes: &themes,
            runbooks: &runbooks,
            xray: &[],
        };
        assert_eq!(complete("theme l", known), vec!["theme light"]);
        assert_eq!(
            complete("rb d", known),
            vec!["rb db-failover", "rb disk-full"]
        );
        assert_eq!(complete("ns de", known), vec!["ns default", "ns demo"]);
        assert_eq!(common_prefix(&complete("ns de", known)), "ns de");
        assert_eq!(complete("ns ", known).len(), 4, "all and the three");
        assert_eq!(complete("ctx p", known), vec!["ctx prod-eu"]);
        assert!(complete("exec l", known).is_empty());
    }

    #[test]
    fn an_unknown_command_suggests_the_closest() {
        let resources = crate::cluster::discovery::tests::sample();
        let said = unknown("pdos", &resources, None);
        assert!(said.contains("did you mean :pods"), "{said}");
        let said = unknown("ingres", &resources, None);
        assert!(said.contains(":ingress"), "{said}");
        let said = unknown("qqqqqq", &resources, None);
        assert!(!said.contains("did you mean"), "{said}");
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

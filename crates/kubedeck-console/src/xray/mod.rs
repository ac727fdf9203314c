//! `:xray KIND [NAME] [-n NAMESPACE]`, as k9s's xray: a workload's owner
//! tree. This module owns the command (its words, its parsing, its
//! completion and opening the screen); `tree` builds the rows from the
//! watch stores; `views/xray.rs` shows them.

#[cfg(test)]
mod tests;
pub(crate) mod tree;

use chrono::{DateTime, Utc};

use crate::cluster::Cache;
use crate::input::action::View;
use crate::state::{AppState, Screen};
use crate::theme::Role;
use crate::update::{Updated, refresh_current};
use crate::views::{Query, Scope};

/// The kinds a tree can start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum XrayKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
}

impl XrayKind {
    pub(crate) const ALL: [XrayKind; 5] = [
        XrayKind::Deployment,
        XrayKind::StatefulSet,
        XrayKind::DaemonSet,
        XrayKind::Job,
        XrayKind::CronJob,
    ];

    /// The words `:xray` takes for the kind, as kubectl does: short name
    /// first, then singular and plural.
    pub(crate) fn words(self) -> &'static [&'static str] {
        match self {
            XrayKind::Deployment => &["deploy", "deployment", "deployments"],
            XrayKind::StatefulSet => &["sts", "statefulset", "statefulsets"],
            XrayKind::DaemonSet => &["ds", "daemonset", "daemonsets"],
            XrayKind::Job => &["job", "jobs"],
            XrayKind::CronJob => &["cj", "cronjob", "cronjobs"],
        }
    }

    /// kubectl's short name, for `deploy/web` labels.
    pub(crate) fn short(self) -> &'static str {
        self.words()[0]
    }

    /// The API's kind name.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            XrayKind::Deployment => "Deployment",
            XrayKind::StatefulSet => "StatefulSet",
            XrayKind::DaemonSet => "DaemonSet",
            XrayKind::Job => "Job",
            XrayKind::CronJob => "CronJob",
        }
    }

    /// The kind a word names, ignoring case; the API's kind name too.
    pub(crate) fn parse(word: &str) -> Option<XrayKind> {
        let word = word.to_ascii_lowercase();
        XrayKind::ALL
            .into_iter()
            .find(|k| k.words().contains(&word.as_str()) || k.kind().eq_ignore_ascii_case(&word))
    }
}

/// What a tree shows: every object of a kind, or the one named, in a
/// namespace (`-n`), or else in the console's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub kind: XrayKind,
    pub name: Option<String>,
    /// Given with `-n`; None follows the console's namespace (`:ns`).
    pub namespace: Option<String>,
}

impl Target {
    /// `deploy/web`, or `deploy` for all of them.
    pub(crate) fn what(&self) -> String {
        match &self.name {
            Some(name) => format!("{}/{name}", self.kind.short()),
            None => self.kind.short().to_string(),
        }
    }

    /// `what`, with `-n NS` when given.
    pub(crate) fn label(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} -n {ns}", self.what()),
            None => self.what(),
        }
    }

    /// The namespace the tree is drawn from: `-n`'s, else the console's
    /// (None: all namespaces).
    pub(crate) fn namespace<'a>(&'a self, console: Option<&'a str>) -> Option<&'a str> {
        self.namespace.as_deref().or(console)
    }
}

const USAGE: &str = "xray needs a kind: :xray deploy|sts|ds|job|cj [NAME] [-n NAMESPACE]";

/// The words after `:xray`: a kind, an optional name (or kubectl's
/// `KIND/NAME`), and `-n NAMESPACE` anywhere.
pub(crate) fn parse<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<Target, String> {
    let mut namespace = None;
    let mut positional = Vec::new();
    while let Some(w) = words.next() {
        if let Some(ns) = w
            .strip_prefix("--namespace=")
            .or_else(|| w.strip_prefix("-n="))
        {
            namespace = Some(ns.to_string());
        } else if matches!(w, "-n" | "--namespace") {
            let ns = words
                .next()
                .ok_or_else(|| format!("{w} needs a namespace: {USAGE}"))?;
            namespace = Some(ns.to_string());
        } else if w.starts_with('-') {
            return Err(format!("xray does not take {w}: {USAGE}"));
        } else {
            positional.push(w);
        }
    }
    let (kind_word, name) = match positional.as_slice() {
        [] => return Err(USAGE.to_string()),
        [kind_name] => match kind_name.split_once('/') {
            Some((kind, name)) => (kind, Some(name)),
            None => (*kind_name, None),
        },
        [kind, name] => (*kind, Some(*name)),
        [_, _, extra, ..] => {
            return Err(format!("xray takes one name, not also {extra:?}: {USAGE}"));
        }
    };
    let kind = XrayKind::parse(kind_word).ok_or_else(|| {
        format!("xray shows deploy, sts, ds, job and cj trees, not {kind_word:?}")
    })?;
    if namespace.as_deref() == Some("") || name == Some("") {
        return Err(USAGE.to_string());
    }
    Ok(Target {
        kind,
        name: name.map(str::to_string),
        namespace,
    })
}

/// Completions of what follows `xray `, as whole lines: a kind's words,
/// then, after one, the names of that kind in `names`.
pub(crate) fn complete(arg: &str, names: &[(XrayKind, String)]) -> Vec<String> {
    let mut out: Vec<String> = match arg.split_once(' ') {
        None => XrayKind::ALL
            .iter()
            .flat_map(|k| k.words())
            .filter(|w| w.starts_with(arg))
            .map(|w| format!("xray {w}"))
            .collect(),
        Some((word, rest)) => {
            let rest = rest.trim_start();
            match XrayKind::parse(word) {
                Some(kind) if !rest.contains(' ') => names
                    .iter()
                    .filter(|(k, n)| *k == kind && n.starts_with(rest))
                    .map(|(_, n)| format!("xray {word} {n}"))
                    .collect(),
                _ => Vec::new(),
            }
        }
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// The objects a tree can start from, in the namespace (None: all), for
/// completing their names.
pub(crate) fn names(cache: &Cache, namespace: Option<&str>) -> Vec<(XrayKind, String)> {
    fn of<K: kube::Resource>(
        kind: XrayKind,
        objects: Vec<std::sync::Arc<K>>,
        namespace: Option<&str>,
    ) -> impl Iterator<Item = (XrayKind, String)> {
        objects.into_iter().filter_map(move |o| {
            let meta = o.meta();
            let in_ns = namespace.is_none_or(|ns| meta.namespace.as_deref() == Some(ns));
            in_ns.then(|| (kind, meta.name.clone().unwrap_or_default()))
        })
    }
    let mut out: Vec<(XrayKind, String)> = Vec::new();
    out.extend(of(
        XrayKind::Deployment,
        cache.deployments.state(),
        namespace,
    ));
    out.extend(of(
        XrayKind::StatefulSet,
        cache.statefulsets.state(),
        namespace,
    ));
    out.extend(of(XrayKind::DaemonSet, cache.daemonsets.state(), namespace));
    out.extend(of(XrayKind::Job, cache.jobs.state(), namespace));
    out.extend(of(XrayKind::CronJob, cache.cronjobs.state(), namespace));
    out
}

/// Opens the tree in place of the stack, as `:pods` does. A name not (yet)
/// in the cache says so, with the closest names, and the tree shows it
/// once its watch brings it.
pub(crate) fn open(
    state: &mut AppState,
    target: Target,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    let crumb = format!("xray {}", target.label());
    let ns = target
        .namespace(state.namespace.as_deref())
        .map(str::to_string);
    let missing = target.name.clone().filter(|name| {
        !names(cache, ns.as_deref())
            .iter()
            .any(|(k, n)| *k == target.kind && n == name)
    });
    let query = Query {
        namespace: state.namespace.clone(),
        scope: Scope::Xray(target.clone()),
        ..Query::default()
    };
    state.stack = vec![Screen::new(View::Xray, query, crumb)];
    refresh_current(state, cache, now);
    if let Some(name) = missing {
        let kind = target.kind.kind().to_lowercase();
        let place = ns.map_or_else(
            || "any namespace".to_string(),
            |ns| format!("namespace {ns}"),
        );
        let close = crate::commands::close_to(
            &name,
            names(cache, target.namespace(state.namespace.as_deref()))
                .into_iter()
                .filter(|(k, _)| *k == target.kind)
                .map(|(_, n)| n),
        );
        let text = if close.is_empty() {
            format!("no {kind} {name:?} in {place}; the tree shows it once it exists")
        } else {
            format!(
                "no {kind} {name:?} in {place}; did you mean {}?",
                close.join(", ")
            )
        };
        state.message = Some((text, Role::Warning));
    }
    Updated::redraw()
}

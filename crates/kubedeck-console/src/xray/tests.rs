//! The owner tree: what it holds (ownerReferences by uid, Services by
//! selector, HPAs by scaleTargetRef, no orphans), its branches, the
//! filter, a rollout arriving by the watch, and `:xray` from the keys.

use serde_json::{Value, json};

use super::tree::{self, depth};
use super::{Target, XrayKind, complete, parse};
use crate::cluster::watch::WatchMsg;
use crate::cluster::{Cache, Kind, cache};
use crate::filter::Filter;
use crate::input::keymap::Keymap;
use crate::logview::LogView;
use crate::state::AppState;
use crate::test_support::now;
use crate::update::{Msg, update};
use crate::views::RowKey;
use crate::views::xray::branches;

fn meta(name: &str, uid: &str, owner: Option<(&str, &str)>) -> Value {
    let mut m = json!({"name": name, "namespace": "shop", "uid": uid,
                       "creationTimestamp": "2026-11-24T02:00:00Z"});
    if let Some((owner_kind, owner_uid)) = owner {
        m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": owner_kind,
            "name": "owner", "uid": owner_uid, "controller": true}]);
    }
    m
}

fn deployment(name: &str, uid: &str, revision: &str) -> Value {
    let mut m = meta(name, uid, None);
    m["annotations"] = json!({"deployment.kubernetes.io/revision": revision});
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": m,
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"containers": [{"name": "app", "image": "web:1"}]}}},
           "status": {"replicas": 2, "readyReplicas": 2, "updatedReplicas": 2,
                      "availableReplicas": 2}})
}

fn replicaset(name: &str, uid: &str, owner: &str, revision: &str, replicas: i32) -> Value {
    let mut m = meta(name, uid, Some(("Deployment", owner)));
    m["annotations"] = json!({"deployment.kubernetes.io/revision": revision});
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": m,
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"spec": {"containers": [{"name": "app", "image": "web:1"}]}}},
           "status": {"replicas": replicas, "readyReplicas": replicas}})
}

fn pod(name: &str, owner: Option<(&str, &str)>, labels: Value) -> Value {
    let mut m = meta(name, &format!("uid-{name}"), owner);
    m["labels"] = labels;
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": m,
           "spec": {"nodeName": "node-1",
                    "initContainers": [{"name": "migrate", "image": "migrate:1"}],
                    "containers": [{"name": "app", "image": "web:1"},
                                   {"name": "proxy", "image": "envoy:1"}]},
           "status": {"phase": "Running",
                      "initContainerStatuses": [{"name": "migrate", "ready": true,
                          "restartCount": 0, "image": "migrate:1", "imageID": "",
                          "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                      "containerStatuses": [
                          {"name": "app", "ready": false, "restartCount": 3, "image": "web:1",
                           "imageID": "", "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                           "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}},
                          {"name": "proxy", "ready": true, "restartCount": 0, "image": "envoy:1",
                           "imageID": "", "state": {"running": {"startedAt": "2026-11-24T02:00:00Z"}}}]}})
}

fn service(name: &str, ns: &str, selector: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": ns, "uid": format!("uid-svc-{ns}-{name}")},
           "spec": {"type": "ClusterIP", "selector": selector,
                    "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}})
}

fn hpa(name: &str, kind: &str, target: &str) -> Value {
    json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-hpa-{name}")},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
                    "minReplicas": 2, "maxReplicas": 5},
           "status": {"currentReplicas": 2, "desiredReplicas": 2}})
}

/// Deployment `web` (revision 2) with its new ReplicaSet (two pods) and an
/// old one scaled down; around it, what must not show: another
/// deployment's ReplicaSet and pod, an orphan pod with web's labels, a
/// Service of another app and one of web's labels in another namespace,
/// an HPA of a StatefulSet named web.
fn web() -> (Cache, cache::Writers) {
    let (cache, mut w) = cache::new();
    for obj in [
        deployment("web", "d-web", "2"),
        deployment("api", "d-api", "1"),
        replicaset("web-new", "rs-new", "d-web", "2", 2),
        replicaset("web-old", "rs-old", "d-web", "1", 0),
        replicaset("api-1", "rs-api", "d-api", "1", 1),
        pod(
            "web-new-b",
            Some(("ReplicaSet", "rs-new")),
            json!({"app": "web"}),
        ),
        pod(
            "web-new-a",
            Some(("ReplicaSet", "rs-new")),
            json!({"app": "web"}),
        ),
        pod(
            "api-1-x",
            Some(("ReplicaSet", "rs-api")),
            json!({"app": "api"}),
        ),
        pod("web-orphan", None, json!({"app": "web"})),
        service("web", "shop", json!({"app": "web"})),
        service("api", "shop", json!({"app": "api"})),
        service("web", "other", json!({"app": "web"})),
        hpa("web", "Deployment", "web"),
        hpa("web-sts", "StatefulSet", "web"),
    ] {
        w.apply_json(&obj).expect("valid object");
    }
    (cache, w)
}

fn target(kind: XrayKind, name: Option<&str>) -> Target {
    Target {
        kind,
        name: name.map(str::to_string),
        namespace: None,
    }
}

fn paths(rows: &[RowKey]) -> Vec<&str> {
    rows.iter().map(|(_, p)| p.as_str()).collect()
}

const WEB: &str = "Deployment/web";
const NEW: &str = "Deployment/web/ReplicaSet/web-new";

#[test]
fn a_deployment_holds_its_replicasets_pods_containers_services_and_hpas_by_owner_uid() {
    let (cache, _w) = web();
    let rows = tree::rows(
        &cache,
        &target(XrayKind::Deployment, Some("web")),
        Some("shop"),
        &Filter::All,
    );
    let pod_a = format!("{NEW}/Pod/web-new-a");
    let pod_b = format!("{NEW}/Pod/web-new-b");
    let expected: Vec<String> = vec![
        WEB.into(),
        NEW.into(),
        pod_a.clone(),
        format!("{pod_a}/Container/migrate"),
        format!("{pod_a}/Container/app"),
        format!("{pod_a}/Container/proxy"),
        pod_b.clone(),
        format!("{pod_b}/Container/migrate"),
        format!("{pod_b}/Container/app"),
        format!("{pod_b}/Container/proxy"),
        "Deployment/web/ReplicaSet/web-old".into(),
        "Deployment/web/Service/web".into(),
        "Deployment/web/HorizontalPodAutoscaler/web".into(),
    ];
    assert_eq!(paths(&rows), expected);
    assert!(rows.iter().all(|(ns, _)| ns == "shop"));
    assert_eq!(
        rows.iter().map(|(_, p)| depth(p)).collect::<Vec<_>>(),
        [0, 1, 2, 3, 3, 3, 2, 3, 3, 3, 1, 1, 1]
    );
}

#[test]
fn without_a_name_every_deployment_is_a_root_and_each_keeps_its_own_pods() {
    let (cache, _w) = web();
    let rows = tree::rows(
        &cache,
        &target(XrayKind::Deployment, None),
        None,
        &Filter::All,
    );
    let roots: Vec<&str> = paths(&rows).into_iter().filter(|p| depth(p) == 0).collect();
    assert_eq!(roots, ["Deployment/api", WEB]);
    let api_pods: Vec<&str> = paths(&rows)
        .into_iter()
        .filter(|p| p.starts_with("Deployment/api/") && p.ends_with("/Pod/api-1-x"))
        .collect();
    assert_eq!(api_pods, ["Deployment/api/ReplicaSet/api-1/Pod/api-1-x"]);
    assert!(
        !paths(&rows).iter().any(|p| p.contains("web-orphan")),
        "{rows:?}"
    );
    // Another namespace's tree is not drawn when the console is in shop.
    let in_other = tree::rows(
        &cache,
        &target(XrayKind::Deployment, None),
        Some("other"),
        &Filter::All,
    );
    assert!(in_other.is_empty(), "{in_other:?}");
}

#[test]
fn a_rollout_shows_up_as_the_watch_brings_the_new_replicaset_and_pods() {
    let (cache, mut w) = web();
    let t = target(XrayKind::Deployment, Some("web"));
    let before = tree::rows(&cache, &t, Some("shop"), &Filter::All);
    w.apply_json(&deployment("web", "d-web", "3"))
        .expect("valid");
    w.apply_json(&replicaset("web-next", "rs-next", "d-web", "3", 1))
        .expect("valid");
    w.apply_json(&pod(
        "web-next-z",
        Some(("ReplicaSet", "rs-next")),
        json!({"app": "web"}),
    ))
    .expect("valid");
    let after = tree::rows(&cache, &t, Some("shop"), &Filter::All);
    assert_eq!(after.len(), before.len() + 5, "{after:?}");
    // The newest revision first, with its pod.
    assert_eq!(after[1].1, "Deployment/web/ReplicaSet/web-next");
    assert_eq!(
        after[2].1,
        "Deployment/web/ReplicaSet/web-next/Pod/web-next-z"
    );
}

#[test]
fn statefulset_pods_hang_from_it_directly_and_cronjobs_from_their_jobs() {
    let (cache, mut w) = cache::new();
    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "uid": "s-db"},
        "spec": {"replicas": 11, "selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
                 "template": {"metadata": {"labels": {"app": "db"}},
                              "spec": {"containers": [{"name": "db", "image": "pg:16"}]}}}});
    let cj = json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "shop", "uid": "c-report"},
        "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "r", "image": "r:1"}], "restartPolicy": "Never"}}}}}});
    let job = |name: &str, at: &str| {
        let mut m = meta(name, &format!("uid-{name}"), Some(("CronJob", "c-report")));
        m["creationTimestamp"] = json!(at);
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": m,
               "spec": {"template": {"spec": {"containers": [{"name": "r", "image": "r:1"}],
                                              "restartPolicy": "Never"}}}})
    };
    for obj in [
        sts,
        cj,
        job("report-1", "2026-11-24T01:00:00Z"),
        job("report-2", "2026-11-24T02:00:00Z"),
        pod("db-10", Some(("StatefulSet", "s-db")), json!({"app": "db"})),
        pod("db-9", Some(("StatefulSet", "s-db")), json!({"app": "db"})),
        pod("report-1-q", Some(("Job", "uid-report-1")), json!({})),
        service("db", "shop", json!({"app": "db"})),
    ] {
        w.apply_json(&obj).expect("valid object");
    }
    let sts_rows = tree::rows(
        &cache,
        &target(XrayKind::StatefulSet, Some("db")),
        Some("shop"),
        &Filter::All,
    );
    let top: Vec<&str> = paths(&sts_rows)
        .into_iter()
        .filter(|p| depth(p) <= 1)
        .collect();
    assert_eq!(
        top,
        [
            "StatefulSet/db",
            "StatefulSet/db/Pod/db-9",
            "StatefulSet/db/Pod/db-10",
            "StatefulSet/db/Service/db"
        ]
    );
    let cj_rows = tree::rows(
        &cache,
        &target(XrayKind::CronJob, None),
        Some("shop"),
        &Filter::All,
    );
    let top: Vec<&str> = paths(&cj_rows)
        .into_iter()
        .filter(|p| depth(p) <= 2)
        .collect();
    assert_eq!(
        top,
        [
            "CronJob/report",
            "CronJob/report/Job/report-2",
            "CronJob/report/Job/report-1",
            "CronJob/report/Job/report-1/Pod/report-1-q"
        ]
    );
}

#[test]
fn the_filter_keeps_a_match_with_the_branch_above_and_below_it() {
    let (cache, _w) = web();
    let t = target(XrayKind::Deployment, Some("web"));
    let filter = Filter::parse("new-b").expect("parses");
    let rows = tree::rows(&cache, &t, Some("shop"), &filter);
    let pod_b = format!("{NEW}/Pod/web-new-b");
    assert_eq!(
        paths(&rows),
        [
            WEB.to_string(),
            NEW.into(),
            pod_b.clone(),
            format!("{pod_b}/Container/migrate"),
            format!("{pod_b}/Container/app"),
            format!("{pod_b}/Container/proxy"),
        ]
    );
    // The namespace is every node's: it matches none of them.
    let rows = tree::rows(
        &cache,
        &t,
        Some("shop"),
        &Filter::parse("shop").expect("parses"),
    );
    assert!(rows.is_empty(), "{rows:?}");
}

#[test]
fn branches_close_at_each_last_child_and_run_on_past_the_window() {
    let (cache, _w) = web();
    let rows = tree::rows(
        &cache,
        &target(XrayKind::Deployment, Some("web")),
        Some("shop"),
        &Filter::All,
    );
    let all = branches(&rows, 0..rows.len());
    assert_eq!(
        all,
        [
            "",
            "├─ ",
            "│  ├─ ",
            "│  │  ├─ ",
            "│  │  ├─ ",
            "│  │  └─ ",
            "│  └─ ",
            "│     ├─ ",
            "│     ├─ ",
            "│     └─ ",
            "├─ ",
            "├─ ",
            "└─ ",
        ]
    );
    // A window in the middle reads the rows after it.
    assert_eq!(branches(&rows, 5..8), all[5..8]);
}

#[test]
fn xray_parses_kinds_names_and_namespaces_as_kubectl_spells_them() {
    let words = |line: &'static str| parse(line.split_whitespace());
    let web = Target {
        kind: XrayKind::Deployment,
        name: Some("web".into()),
        namespace: Some("shop".into()),
    };
    assert_eq!(words("deploy web -n shop"), Ok(web.clone()));
    assert_eq!(words("-n shop deployments web"), Ok(web.clone()));
    assert_eq!(words("deployment/web --namespace=shop"), Ok(web));
    assert_eq!(
        words("STS"),
        Ok(Target {
            kind: XrayKind::StatefulSet,
            name: None,
            namespace: None
        })
    );
    assert_eq!(words("cj").map(|t| t.kind), Ok(XrayKind::CronJob));
    assert!(
        words("")
            .unwrap_err()
            .contains(":xray deploy|sts|ds|job|cj")
    );
    assert!(words("pods web").unwrap_err().contains("not \"pods\""));
    assert!(
        words("deploy web -n")
            .unwrap_err()
            .contains("-n needs a namespace")
    );
    assert!(words("deploy a b").unwrap_err().contains("one name"));
    assert!(words("deploy -w").unwrap_err().contains("does not take -w"));
}

#[test]
fn xray_completes_a_kind_then_that_kinds_names() {
    let names = [
        (XrayKind::Deployment, "web".to_string()),
        (XrayKind::Deployment, "worker".into()),
        (XrayKind::StatefulSet, "web-db".into()),
    ];
    assert_eq!(
        complete("st", &names),
        ["xray statefulset", "xray statefulsets", "xray sts"]
    );
    assert_eq!(
        complete("deploy w", &names),
        ["xray deploy web", "xray deploy worker"]
    );
    assert_eq!(complete("sts ", &names), ["xray sts web-db"]);
    assert!(complete("pods ", &names).is_empty());
    assert!(complete("deploy web x", &names).is_empty());
    let known = crate::commands::Known {
        xray: &names,
        ..crate::commands::Known::default()
    };
    assert_eq!(crate::commands::complete("xr", known), ["xray"]);
    assert_eq!(
        crate::commands::complete("xray deploy wo", known),
        ["xray deploy worker"]
    );
}

fn console(cache: &Cache) -> (AppState, Keymap) {
    let keymap = Keymap::built_in_default();
    let mut state = AppState::new("test", None, false);
    update(
        &mut state,
        Msg::Resize {
            width: 140,
            height: 30,
        },
        cache,
        &keymap,
        now(),
    );
    for kind in Kind::ALL {
        update(
            &mut state,
            Msg::Watch(WatchMsg::Synced(kind)),
            cache,
            &keymap,
            now(),
        );
    }
    (state, keymap)
}

fn keys(state: &mut AppState, cache: &Cache, keymap: &Keymap, keys: &[&str]) {
    for k in keys {
        let key = if k.chars().count() > 1 {
            k.parse().expect("test key")
        } else {
            crate::input::key::Key::plain(k.chars().next().unwrap_or(' '))
        };
        update(state, Msg::Key(key), cache, keymap, now());
    }
}

fn command(state: &mut AppState, cache: &Cache, keymap: &Keymap, line: &str) {
    keys(state, cache, keymap, &[":"]);
    let chars: Vec<String> = line.chars().map(String::from).collect();
    let chars: Vec<&str> = chars.iter().map(String::as_str).collect();
    keys(state, cache, keymap, &chars);
    keys(state, cache, keymap, &["enter"]);
}

fn select(state: &mut AppState, path: &str) {
    let i = state
        .screen()
        .rows
        .iter()
        .position(|(_, p)| p == path)
        .expect("the row is listed");
    state.screen_mut().selected = i;
}

#[test]
fn xray_from_the_keys_describes_shows_yaml_and_logs_of_the_selected_node() {
    let (cache, mut w) = web();
    let (mut state, keymap) = console(&cache);
    command(&mut state, &cache, &keymap, "xray deploy web -n shop");
    assert_eq!(state.screen().rows.len(), 13, "{:?}", state.screen().rows);
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert!(
        vm.table.title.starts_with("Xray deploy/web(shop)["),
        "{}",
        vm.table.title
    );

    // Enter describes the node under the cursor; Esc comes back.
    select(&mut state, "Deployment/web/Service/web");
    keys(&mut state, &cache, &keymap, &["enter"]);
    let pane = state.screen().text().expect("a describe pane");
    assert_eq!(pane.title, "describe service/web");
    keys(&mut state, &cache, &keymap, &["esc"]);
    assert!(state.screen().text().is_none());

    select(&mut state, NEW);
    keys(&mut state, &cache, &keymap, &["y"]);
    let pane = state.screen().text().expect("a YAML pane");
    assert_eq!(pane.title, "yaml replicaset/web-new");
    keys(&mut state, &cache, &keymap, &["esc"]);

    // A container's logs are that container's; a pod's all of them.
    select(&mut state, &format!("{NEW}/Pod/web-new-b/Container/proxy"));
    keys(&mut state, &cache, &keymap, &["l"]);
    let logs: &LogView = state.logs.as_ref().expect("the log view");
    assert_eq!(logs.title, "pod/web-new-b");
    assert_eq!(logs.container, Some(1), "{:?}", logs.containers);
    keys(&mut state, &cache, &keymap, &["esc"]);
    assert!(state.logs.is_none());

    // The watch brings a new ReplicaSet: the tree shows it, no key pressed.
    w.apply_json(&replicaset("web-next", "rs-next", "d-web", "3", 1))
        .expect("valid");
    update(
        &mut state,
        Msg::Watch(WatchMsg::Changed(Kind::ReplicaSet)),
        &cache,
        &keymap,
        now(),
    );
    assert!(
        state
            .screen()
            .rows
            .iter()
            .any(|(_, p)| p == "Deployment/web/ReplicaSet/web-next"),
        "{:?}",
        state.screen().rows
    );
}

#[test]
fn an_unknown_name_says_so_with_the_closest_and_a_bad_kind_says_what_there_is() {
    let (cache, _w) = web();
    let (mut state, keymap) = console(&cache);
    command(&mut state, &cache, &keymap, "xray deploy webb");
    let (text, _) = state.message.clone().expect("a message");
    assert!(text.contains("no deployment \"webb\""), "{text}");
    assert!(text.contains("did you mean web"), "{text}");
    command(&mut state, &cache, &keymap, "xray svc web");
    let (text, _) = state.message.clone().expect("a message");
    assert!(text.contains("not \"svc\""), "{text}");
}

/// The seed's myfin-api, as `:xray deploy myfin-api -n myfin` draws it,
/// and every StatefulSet of the seed: the branches, each node's columns,
/// and a crash-looping container's last state.
#[test]
fn the_seed_trees_snapshot() {
    use crate::test_support::{draw, screen_text};
    let cache = crate::seed_fixture::seed_cluster();
    for (line, name, w, h) in [
        ("xray deploy myfin-api -n myfin", "xray_myfin_api", 100, 30),
        ("xray deploy myfin-api -n myfin", "xray_myfin_api", 160, 45),
        (
            "xray deploy nginx-gateway -n selfmonitor",
            "xray_crashloop",
            120,
            20,
        ),
        ("xray sts", "xray_statefulsets", 160, 45),
    ] {
        let (mut state, keymap) = console(&cache);
        update(
            &mut state,
            Msg::Resize {
                width: w,
                height: h,
            },
            &cache,
            &keymap,
            now(),
        );
        command(&mut state, &cache, &keymap, line);
        let shown = screen_text(&draw(&state, &cache, &keymap, w, h));
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), shown);
        if name == "xray_crashloop" {
            let line = shown
                .lines()
                .find(|l| l.contains("└─ container/nginx") && l.contains("CrashLoopBackOff"))
                .unwrap_or_default();
            assert!(line.contains("last: OOMKilled (exit 137)"), "{shown}");
        }
    }
}

/// The tree's pods and workloads take the keys they take elsewhere: a
/// pod's kill is planned for that pod, a Deployment's scale opens its form,
/// a container's shell opens in it.
#[test]
fn actions_apply_to_the_node_under_the_cursor() {
    let (cache, _w) = web();
    let (mut state, keymap) = console(&cache);
    command(&mut state, &cache, &keymap, "xray deploy web -n shop");
    select(&mut state, &format!("{NEW}/Pod/web-new-a"));
    let out = update(
        &mut state,
        Msg::Key("ctrl-k".parse().expect("key")),
        &cache,
        &keymap,
        now(),
    );
    let planned: Vec<String> = out
        .effects
        .iter()
        .filter(|e| matches!(e, crate::update::Effect::Plan { .. }))
        .map(|e| format!("{e:?}"))
        .collect();
    assert_eq!(planned.len(), 1, "{:?}", out.effects);
    assert!(planned[0].contains("web-new-a"), "{}", planned[0]);
    keys(&mut state, &cache, &keymap, &["esc"]);
    state.dialog = None;

    select(&mut state, WEB);
    keys(&mut state, &cache, &keymap, &["s"]);
    let dialog = format!("{:?}", state.dialog);
    assert!(dialog.contains("Scale deployment/web"), "{dialog}");
    state.dialog = None;

    // s on a container is a shell in that container.
    select(&mut state, &format!("{NEW}/Pod/web-new-a/Container/proxy"));
    let out = update(
        &mut state,
        Msg::Key("s".parse().expect("key")),
        &cache,
        &keymap,
        now(),
    );
    let shell = format!("{:?}", out.effects);
    assert!(
        shell.contains("Shell") && shell.contains("web-new-a") && shell.contains("proxy"),
        "{shell}"
    );
}

//! Snapshots of the generic view: Ingresses and a custom kind with the
//! server's columns, and a Secret masked in its list, YAML and describe
//! panes (each frame also checked for the value, which must never show).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::cluster::browse::BrowseTarget;
use crate::cluster::discovery::tests::sample;
use crate::cluster::watch::WatchMsg;
use crate::cluster::{Cache, Kind};
use crate::input::keymap::Keymap;
use crate::state::AppState;
use crate::test_support::{cluster, draw, now, screen_text};
use crate::update::{Effect, Msg, update};

const W: u16 = 110;
const H: u16 = 24;

/// The seed's Secret value, as stored (base64) and decoded.
const STORED: &str = "c2ltLW5vdC1hLXJlYWwtcGFzc3dvcmQ=";
const DECODED: &str = "sim-not-a-real-password";

struct T {
    state: AppState,
    cache: Cache,
    keymap: Keymap,
}

type Cells = Vec<((String, String), Vec<String>)>;

impl T {
    fn new() -> T {
        let mut t = T {
            state: AppState::new("kind-dev", None, false),
            cache: cluster(),
            keymap: Keymap::built_in_default(),
        };
        t.msg(Msg::Watch(WatchMsg::Discovered(Ok(Arc::from(sample())))));
        t.msg(Msg::Resize {
            width: W,
            height: H,
        });
        t
    }

    fn msg(&mut self, msg: Msg) -> Vec<Effect> {
        update(&mut self.state, msg, &self.cache, &self.keymap, now()).effects
    }

    fn key(&mut self, k: &str) -> Vec<Effect> {
        self.msg(Msg::Key(k.parse().expect("test key parses")))
    }

    /// `:NAME`, the watch's objects and the server's Table for it.
    fn open(&mut self, name: &str, objects: &[Value], columns: &[(&str, bool)], cells: Cells) {
        self.key(":");
        for c in name.chars() {
            self.key(&c.to_string());
        }
        self.key("enter");
        let resource = self.state.screen().query.resource.clone().expect(name);
        let columns = columns.iter().map(|(c, n)| (c.to_string(), *n)).collect();
        self.cache.browse.fill(
            BrowseTarget {
                resource,
                namespace: None,
            },
            objects,
            Some((columns, cells)),
        );
        self.msg(Msg::Watch(WatchMsg::Changed(Kind::Resource)));
    }

    fn frame(&self) -> String {
        screen_text(&draw(&self.state, &self.cache, &self.keymap, W, H))
    }
}

fn object(api_version: &str, kind: &str, ns: &str, name: &str, minutes: i64) -> Value {
    let created = now() - chrono::Duration::minutes(minutes);
    json!({"apiVersion": api_version, "kind": kind,
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": created.to_rfc3339()}})
}

fn key(ns: &str, name: &str) -> (String, String) {
    (ns.to_string(), name.to_string())
}

fn cells(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

#[test]
fn ingresses_show_the_servers_columns() {
    let mut t = T::new();
    let ing = |ns, name, minutes| object("networking.k8s.io/v1", "Ingress", ns, name, minutes);
    t.open(
        "ing",
        &[
            ing("myfin", "myfin-ingress", 90),
            ing("shop", "storefront", 2 * 24 * 60),
        ],
        &[
            ("NAME", false),
            ("CLASS", false),
            ("HOSTS", false),
            ("ADDRESS", false),
            ("PORTS", false),
            ("AGE", false),
        ],
        vec![
            (
                key("myfin", "myfin-ingress"),
                cells(&["myfin-ingress", "nginx", "myfin.local", "", "80", "90m"]),
            ),
            (
                key("shop", "storefront"),
                cells(&[
                    "storefront",
                    "nginx",
                    "shop.example.com,www.shop.example.com",
                    "10.0.0.7",
                    "80, 443",
                    "2d",
                ]),
            ),
        ],
    );
    insta::assert_snapshot!("generic_ingresses", t.frame());
}

#[test]
fn a_custom_kind_shows_its_printer_columns() {
    let mut t = T::new();
    let ct = |name, minutes| object("stable.example.com/v1", "CronTab", "default", name, minutes);
    t.open(
        "ct",
        &[ct("nightly", 30), ct("hourly", 5)],
        &[
            ("NAME", false),
            ("SPEC", false),
            ("REPLICAS", true),
            ("AGE", false),
        ],
        vec![
            (
                key("default", "nightly"),
                cells(&["nightly", "0 3 * * *", "1", "30m"]),
            ),
            (
                key("default", "hourly"),
                cells(&["hourly", "0 * * * *", "12", "5m"]),
            ),
        ],
    );
    insta::assert_snapshot!("generic_crontabs", t.frame());
}

#[test]
fn a_secret_is_masked_in_its_list_yaml_and_describe_panes() {
    let mut t = T::new();
    let mut secret = object("v1", "Secret", "myfin", "mysql-secrets", 60);
    secret["type"] = json!("Opaque");
    secret["data"] = json!({"password": STORED, "username": "cm9vdA=="});
    t.open(
        "secret",
        std::slice::from_ref(&secret),
        &[
            ("NAME", false),
            ("TYPE", false),
            ("DATA", true),
            ("AGE", false),
        ],
        vec![(
            key("myfin", "mysql-secrets"),
            cells(&["mysql-secrets", "Opaque", "2", "60m"]),
        )],
    );
    let list = t.frame();

    // The full object arrives as the fetch leaves it: values replaced.
    let resource = t.state.screen().query.resource.clone().expect("secrets");
    let mut fetched = secret.clone();
    crate::full_yaml::hide_values(&mut fetched, &resource);
    let loaded = |t: &mut T, effects: Vec<Effect>| {
        let [Effect::LoadFull(target)] = effects.as_slice() else {
            panic!("the pane reads the Secret: {effects:?}");
        };
        t.msg(Msg::FullLoaded {
            target: target.clone(),
            result: Ok(fetched.clone()),
        });
    };
    let effects = t.key("y");
    loaded(&mut t, effects);
    let yaml = t.frame();
    t.key("esc");
    let effects = t.key("d");
    loaded(&mut t, effects);
    let described = t.frame();

    for (what, frame) in [("list", &list), ("yaml", &yaml), ("describe", &described)] {
        for value in [STORED, DECODED, "cm9vdA"] {
            assert!(!frame.contains(value), "a value in the {what}:\n{frame}");
        }
    }
    insta::assert_snapshot!("generic_secret_list", list);
    insta::assert_snapshot!("generic_secret_yaml", yaml);
    insta::assert_snapshot!("generic_secret_describe", described);
}

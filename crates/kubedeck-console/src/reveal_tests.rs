//! Revealing a Secret's key through `update`, as a user meets it: `x` on a
//! Secret (row or pane) reads its keys, picks one, and shows the value in
//! a pane that Esc drops; read-only refuses before anything is read; `x`
//! elsewhere is still the recovery test.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::cluster::browse::BrowseTarget;
use crate::cluster::discovery::tests::sample;
use crate::cluster::watch::WatchMsg;
use crate::cluster::{Cache, Kind};
use crate::input::keymap::Keymap;
use crate::state::Screen;
use crate::test_support::{cluster, draw, now, resize, screen_text};
use crate::update::update;
use crate::views::Query;

const VALUE: &str = "hunter2-not-real";

struct T {
    state: AppState,
    cache: Cache,
    keymap: Keymap,
}

impl T {
    /// `:secret` with two Secrets, the first (`shop/db`) selected.
    fn secrets(readonly: bool) -> T {
        let mut t = T {
            state: AppState::new("kind-dev", None, readonly),
            cache: cluster(),
            keymap: Keymap::built_in_default(),
        };
        t.msg(Msg::Watch(WatchMsg::Discovered(Ok(Arc::from(sample())))));
        t.msg(resize(30));
        t.command("secret");
        let resource = t.state.screen().query.resource.clone().expect("secrets");
        let secret = |ns: &str, name: &str| {
            json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": name, "namespace": ns, "creationTimestamp": now().to_rfc3339()},
                "type": "Opaque"})
        };
        t.cache.browse.fill(
            BrowseTarget {
                resource,
                namespace: None,
            },
            &[secret("shop", "db"), secret("web", "tls")],
            None,
        );
        t.msg(Msg::Watch(WatchMsg::Changed(Kind::Resource)));
        assert_eq!(
            t.state.screen().selected_key(),
            Some(&("shop".to_string(), "db".to_string()))
        );
        t
    }

    fn msg(&mut self, msg: Msg) -> Updated {
        update(&mut self.state, msg, &self.cache, &self.keymap, now())
    }

    fn key(&mut self, k: &str) -> Updated {
        self.msg(Msg::Key(k.parse().expect("test key parses")))
    }

    fn command(&mut self, line: &str) {
        self.key(":");
        for c in line.chars() {
            self.key(&c.to_string());
        }
        self.key("enter");
    }

    fn screen(&self) -> String {
        screen_text(&draw(&self.state, &self.cache, &self.keymap, 120, 30))
    }
}

fn db() -> SecretRef {
    SecretRef {
        namespace: "shop".into(),
        name: "db".into(),
    }
}

fn keys(names: &[(&str, usize)]) -> Msg {
    Msg::SecretKeys {
        secret: db(),
        result: Ok(names.iter().map(|(k, n)| (k.to_string(), *n)).collect()),
    }
}

#[test]
fn x_on_a_secret_picks_a_key_and_asks_for_it_alone() {
    let mut t = T::secrets(false);
    let out = t.key("x");
    assert_eq!(out.effects, vec![Effect::SecretKeys(db())]);
    assert!(t.screen().contains("reading the keys of secret/db"));

    t.msg(keys(&[("password", 16), ("username", 5)]));
    let shown = t.screen();
    assert!(shown.contains("Reveal a key of secret/db"), "{shown}");
    assert!(shown.contains("◀ password ▶"), "{shown}");
    assert!(shown.contains("username (5 bytes)"), "{shown}");
    assert!(shown.contains("reveal"), "{shown}");

    t.key("right");
    let out = t.key("enter");
    assert_eq!(
        out.effects,
        vec![Effect::Reveal(SecretKey::new("shop", "db", "username"))]
    );
    assert!(t.state.dialog.is_none());
}

#[test]
fn a_secret_of_one_key_reveals_it_without_asking() {
    let mut t = T::secrets(false);
    t.key("x");
    let out = t.msg(keys(&[("token", 3)]));
    assert_eq!(
        out.effects,
        vec![Effect::Reveal(SecretKey::new("shop", "db", "token"))]
    );
    assert!(t.state.dialog.is_none());

    let mut t = T::secrets(false);
    t.key("x");
    t.msg(keys(&[]));
    assert!(t.state.dialog.is_none());
    assert!(t.screen().contains("secret/db has no data to reveal"));
}

#[test]
fn keys_that_come_after_the_picker_closed_open_nothing() {
    let mut t = T::secrets(false);
    t.key("x");
    let out = t.key("esc");
    assert!(out.effects.is_empty());
    assert!(t.screen().contains("cancelled: nothing was revealed"));
    let out = t.msg(keys(&[("token", 3)]));
    assert!(out.effects.is_empty() && !out.redraw);
    assert!(t.state.dialog.is_none());

    // An error reading them stays in the picker, for Esc.
    t.key("x");
    t.msg(Msg::SecretKeys {
        secret: db(),
        result: Err("secrets \"db\" is forbidden".into()),
    });
    let shown = t.screen();
    assert!(
        shown.contains("cannot read the keys of secret/db: secrets \"db\" is forbidden"),
        "{shown}"
    );
    assert!(
        t.key("enter").effects.is_empty(),
        "no key, nothing to reveal"
    );
}

#[test]
fn the_value_shows_in_its_own_pane_until_esc_drops_it() {
    let mut t = T::secrets(false);
    assert!(!t.screen().contains(VALUE));
    let target = SecretKey::new("shop", "db", "password");
    t.key("x");
    t.msg(keys(&[("password", 16)]));
    t.msg(Msg::Revealed {
        target: target.clone(),
        result: Ok(Revealed::new(VALUE.as_bytes().to_vec())),
    });
    let shown = t.screen();
    assert!(shown.contains(VALUE), "{shown}");
    assert!(
        shown.contains("secret/db key password (16 bytes, decoded; Esc closes and forgets it)"),
        "{shown}"
    );
    assert!(shown.contains("revealed password of secret/db (audited)"));

    t.key("esc");
    assert!(!t.screen().contains(VALUE));
    assert!(
        !format!("{:?}", t.state).contains(VALUE),
        "nothing of the pane is kept"
    );

    // A refusal or failure is said, and shows nothing.
    t.key("x");
    t.msg(keys(&[("password", 16)]));
    let out = t.msg(Msg::Revealed {
        target,
        result: Err("forbidden: you may not get secrets in namespace shop".into()),
    });
    assert!(out.redraw);
    assert!(t.screen().contains("forbidden: you may not get secrets"));
    assert!(t.state.screen().text().is_none());
}

#[test]
fn x_in_a_secrets_describe_pane_reveals_that_secret() {
    let mut t = T::secrets(false);
    t.key("j");
    t.key("d");
    assert!(t.state.screen().text().is_some(), "a describe pane");
    let out = t.key("x");
    let tls = SecretRef {
        namespace: "web".into(),
        name: "tls".into(),
    };
    assert_eq!(out.effects, vec![Effect::SecretKeys(tls)]);
}

#[test]
fn read_only_refuses_before_reading_and_audits_unless_the_config_allows() {
    let mut t = T::secrets(true);
    let out = t.key("x");
    assert_eq!(
        out.effects,
        vec![Effect::AuditReadonlyRefusal {
            namespace: "shop".into(),
            object: "secret/db".into(),
            action: "reveal-secret-key".into(),
        }]
    );
    assert!(t.state.dialog.is_none());
    assert!(
        t.screen()
            .contains("refused: context kind-dev is read-only; revealing a Secret's key"),
        "{}",
        t.screen()
    );

    let mut t = T::secrets(true);
    t.state.reveal_in_read_only = true;
    assert_eq!(t.key("x").effects, vec![Effect::SecretKeys(db())]);

    // A broken config allows nothing, whatever it said.
    let mut t = T::secrets(true);
    t.state.reveal_in_read_only = true;
    t.state.blocked = Some("config c.toml:2: unknown field `x`".into());
    let out = t.key("x");
    assert!(matches!(
        out.effects.as_slice(),
        [Effect::AuditReadonlyRefusal { .. }]
    ));
    assert!(t.screen().contains("refused: config c.toml:2"));
}

#[test]
fn x_elsewhere_is_still_the_recovery_test_and_decode_says_where_it_works() {
    let mut t = T::secrets(false);
    t.state.stack = vec![Screen::new(View::Workloads, Query::default(), "workloads")];
    t.msg(Msg::Watch(WatchMsg::Synced(Kind::Deployment)));
    let out = t.key("x");
    assert!(out.effects.is_empty());
    assert!(
        matches!(&t.state.dialog, Some(Dialog::Form(f)) if matches!(f.kind, FormKind::RecoveryTest { .. })),
        "{:?}",
        t.state.dialog
    );
    t.state.dialog = None;
    let out = on_action(&mut t.state, &Action::Decode).expect("decode answers");
    assert!(out.effects.is_empty());
    assert!(
        t.state
            .message
            .as_ref()
            .is_some_and(|m| m.0.contains("select one in :secret"))
    );
}

#[test]
fn values_show_as_safe_text_or_as_hex() {
    let (how, lines) = value_lines(b"line one\nline two");
    assert_eq!(how, "17 bytes, decoded");
    assert_eq!(lines, ["line one", "line two"]);

    let (how, lines) = value_lines(b"a\x1b]0;pwned\x07b\x1b[2Jc");
    assert!(how.ends_with("control characters removed"), "{how}");
    assert!(
        lines
            .iter()
            .all(|l| !l.contains('\x1b') && !l.contains('\x07'))
    );

    let bytes: Vec<u8> = (0u8..20).chain([0xff, 0xfe]).collect();
    let (how, lines) = value_lines(&bytes);
    assert_eq!(how, "binary, 22 bytes, as hex");
    assert_eq!(
        lines,
        [
            "00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  |................|",
            "00000010  10 11 12 13 ff fe                                |......|",
        ]
    );
    let big = vec![0xffu8; HEX_LIMIT + 5];
    let (_, lines) = value_lines(&big);
    assert_eq!(lines.last().map(String::as_str), Some("… 5 more bytes"));
}

#[test]
fn an_answer_nobody_is_waiting_for_opens_nothing() {
    // As after `:ctx`: the fresh state asked for no reveal.
    let mut t = T::secrets(false);
    let out = t.msg(Msg::Revealed {
        target: SecretKey::new("shop", "db", "password"),
        result: Ok(Revealed::new(VALUE.as_bytes().to_vec())),
    });
    assert!(!out.redraw);
    assert!(!t.screen().contains(VALUE));

    // Asked for one key, an answer for another opens nothing either.
    t.key("x");
    t.msg(keys(&[("password", 16), ("username", 5)]));
    t.key("enter");
    t.msg(Msg::Revealed {
        target: SecretKey::new("shop", "db", "username"),
        result: Ok(Revealed::new(VALUE.as_bytes().to_vec())),
    });
    assert!(!t.screen().contains(VALUE));
    t.msg(Msg::Revealed {
        target: SecretKey::new("shop", "db", "password"),
        result: Ok(Revealed::new(VALUE.as_bytes().to_vec())),
    });
    assert!(t.screen().contains(VALUE));
}

//! Keymaps: which key does which `Action` in which mode. Built-in keymaps
//! live in `keymaps/`; a user's keymap names a parent (`extends`) and
//! overrides only the keys it lists. Resolution is a pure lookup.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::action::Action;
use super::key::Key;
use crate::layers::Layered;
use kubedeck_core::config_file::{ConfigError, line_of};

/// Where keys are read: tables, dialogs, or a text prompt (`:` and `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Mode {
    Normal,
    Dialog,
    Input,
    /// The log view; keys it does not bind fall back to normal navigation.
    Logs,
}

pub(crate) const BUILT_IN: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("tmux-safe", include_str!("../../keymaps/tmux-safe.toml")),
];

/// The word that removes an inherited binding.
const UNBIND: &str = "none";

#[derive(Debug, Clone, Default)]
pub struct Keymap {
    layers: HashMap<Mode, HashMap<Key, Action>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeymap {
    extends: Option<Spanned<String>>,
    #[serde(default)]
    normal: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    dialog: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    input: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    logs: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

impl Keymap {
    pub(crate) fn resolve(&self, mode: Mode, key: Key) -> Option<&Action> {
        self.layers.get(&mode)?.get(&key)
    }

    /// The bindings of a mode, grouped by action in a stable order, for help.
    pub(crate) fn bindings(&self, mode: Mode) -> Vec<(Action, Vec<Key>)> {
        let mut by_action: Vec<(Action, Vec<Key>)> = Vec::new();
        let mut keys: Vec<(&Key, &Action)> = self
            .layers
            .get(&mode)
            .map(|l| l.iter().collect())
            .unwrap_or_default();
        // Plain keys first: they are what the help and hints should show.
        keys.sort_by_key(|(k, _)| (k.ctrl || k.alt, **k));
        for (key, action) in keys {
            match by_action.iter_mut().find(|(a, _)| a == action) {
                Some((_, ks)) => ks.push(*key),
                None => by_action.push((action.clone(), vec![*key])),
            }
        }
        by_action
    }

    /// The first key bound to `action` in `mode`, plain keys first.
    pub(crate) fn first_key(&self, mode: Mode, action: &Action) -> Option<Key> {
        self.bindings(mode)
            .into_iter()
            .find(|(a, _)| a == action)
            .and_then(|(_, keys)| keys.first().copied())
    }

    /// The built-in default keymap.
    pub fn built_in_default() -> Keymap {
        let mut km = Keymap::default();
        // The shipped files are tested to parse; an error here is a build defect.
        if let Err(errs) = km.layer_text(
            "default",
            "built-in keymap \"default\"",
            BUILT_IN[0].1,
            None,
            &[],
        ) {
            tracing::error!("built-in keymap: {}", errs[0]);
        }
        km
    }

    /// Loads the keymap `name`: a built-in one, one in the user's keymap
    /// folder, or a file path. Any error leaves the defaults in place and is
    /// returned for the console to show.
    pub(crate) fn load(name: Option<&str>, user_dir: Option<&Path>) -> (Keymap, Vec<ConfigError>) {
        let default = Keymap::built_in_default();
        let Some(name) = name.filter(|n| *n != "default") else {
            return (default, Vec::new());
        };
        let mut km = default.clone();
        match km.layer_named(name, user_dir, &[]) {
            Ok(()) => (km, Vec::new()),
            Err(errs) => (default, errs),
        }
    }
}

impl Layered for Keymap {
    const KIND: &'static str = "keymap";
    const BUILT_IN: &'static [(&'static str, &'static str)] = BUILT_IN;

    /// Applies one file over the keymap built so far, after its parent.
    /// Every bad line is reported; nothing of a bad file is applied.
    fn layer_text(
        &mut self,
        name: &str,
        file: &str,
        text: &str,
        user_dir: Option<&Path>,
        chain: &[String],
    ) -> Result<(), Vec<ConfigError>> {
        let raw: RawKeymap =
            toml::from_str(text).map_err(|e| vec![ConfigError::from_toml(file, text, &e)])?;
        let mut next = self.clone();
        if let Some(parent) = &raw.extends {
            let parent_name = parent.get_ref();
            if parent_name != name && parent_name != "default" {
                next.extend(parent, file, text, user_dir, chain)?;
            }
        }
        let mut errors = Vec::new();
        let mut quit_unbound_at = None;
        for (mode, table) in [
            (Mode::Normal, &raw.normal),
            (Mode::Dialog, &raw.dialog),
            (Mode::Input, &raw.input),
            (Mode::Logs, &raw.logs),
        ] {
            let layer = next.layers.entry(mode).or_default();
            for (key, value) in table {
                let key_line = Some(line_of(text, key.span().start));
                let parsed_key = match key.get_ref().parse::<Key>() {
                    Ok(k) => k,
                    Err(e) => {
                        errors.push(ConfigError::new(file, key_line, e));
                        continue;
                    }
                };
                if value.get_ref().as_str() == Some(UNBIND) {
                    if mode == Mode::Normal && layer.get(&parsed_key) == Some(&Action::Quit) {
                        quit_unbound_at = key_line;
                    }
                    layer.remove(&parsed_key);
                    continue;
                }
                match Action::deserialize(value.get_ref().clone()) {
                    Ok(action) => {
                        layer.insert(parsed_key, action);
                    }
                    Err(e) => errors.push(ConfigError::new(
                        file,
                        Some(line_of(text, value.span().start)),
                        format!("key {:?}: {}", key.get_ref(), e.message().trim()),
                    )),
                }
            }
        }
        // Only the whole chain must leave a way out: a parent may unbind
        // what its child binds again.
        let top = chain.len() <= 1;
        let can_quit = next
            .layers
            .get(&Mode::Normal)
            .is_some_and(|l| l.values().any(|a| *a == Action::Quit));
        if top && !can_quit {
            errors.push(ConfigError::new(
                file,
                quit_unbound_at,
                "no key is left to quit in [normal]; bind one (the default has q and ctrl-c)",
            ));
        }
        errors.sort_by_key(|e| e.line);
        if errors.is_empty() {
            *self = next;
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::action::{SortColumn, View};
    use super::*;

    fn key(s: &str) -> Key {
        s.parse().expect("test key parses")
    }

    #[test]
    fn a_keymap_that_unbinds_every_quit_key_is_refused_at_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("trap.toml");
        std::fs::write(&path, "[normal]\nq = \"none\"\n\"ctrl-c\" = \"none\"\n").expect("write");
        let (km, errs) = Keymap::load(path.to_str(), None);
        let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(shown[0].contains("trap.toml:"), "{shown:?}");
        assert!(shown[0].contains("no key is left to quit"), "{shown:?}");
        assert_eq!(km.resolve(Mode::Normal, key("q")), Some(&Action::Quit));

        // Moving quit to another key is fine.
        std::fs::write(&path, "[normal]\nq = \"none\"\nx = \"quit\"\n").expect("write");
        let (km, errs) = Keymap::load(path.to_str(), None);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(km.resolve(Mode::Normal, key("x")), Some(&Action::Quit));
    }

    #[test]
    fn every_built_in_keymap_parses() {
        for (name, text) in BUILT_IN {
            let mut km = Keymap::built_in_default();
            km.layer_text(name, name, text, None, &[])
                .unwrap_or_else(|e| panic!("{name}: {}", e[0]));
        }
    }

    #[test]
    fn default_keymap_is_k9s_familiar() {
        let km = Keymap::built_in_default();
        for (k, action) in [
            ("j", Action::Down),
            ("down", Action::Down),
            ("k", Action::Up),
            ("enter", Action::Enter),
            ("esc", Action::Back),
            (":", Action::Command),
            ("/", Action::Filter),
            ("?", Action::Help),
            ("l", Action::Logs),
            ("s", Action::Shell),
            ("R", Action::SortBy(SortColumn::Restarts)),
            ("S", Action::SortBy(SortColumn::Status)),
            ("z", Action::ToggleFaults),
            ("r", Action::Restart),
            ("d", Action::Describe),
            ("y", Action::Yaml),
            ("ctrl-d", Action::Delete),
            ("ctrl-k", Action::Kill),
            ("e", Action::Edit),
            ("q", Action::Quit),
            ("ctrl-c", Action::Quit),
        ] {
            assert_eq!(km.resolve(Mode::Normal, key(k)), Some(&action), "{k}");
        }
    }

    #[test]
    fn a_user_keymap_overrides_only_what_it_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("mine.toml"),
            "extends = \"default\"\n[normal]\nx = \"delete\"\n\"ctrl-d\" = \"none\"\nP = { goto = \"pods\" }\n",
        )
        .expect("write");
        let (km, errs) = Keymap::load(Some("mine"), Some(dir.path()));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(km.resolve(Mode::Normal, key("x")), Some(&Action::Delete));
        assert_eq!(km.resolve(Mode::Normal, key("ctrl-d")), None);
        assert_eq!(
            km.resolve(Mode::Normal, key("P")),
            Some(&Action::Goto(View::Pods))
        );
        assert_eq!(
            km.resolve(Mode::Normal, key("j")),
            Some(&Action::Down),
            "untouched keys stay"
        );
    }

    #[test]
    fn a_bad_keymap_reports_every_bad_line_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.toml");
        std::fs::write(
            &path,
            "[normal]\nj = \"up\"\nx = \"dleete\"\n\"ctlr-k\" = \"kill\"\n",
        )
        .expect("write");
        let (km, errs) = Keymap::load(Some("bad"), Some(dir.path()));
        let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(errs.len(), 2, "{shown:?}");
        assert!(
            shown[0].starts_with(&format!(
                "{}:3: key \"x\": unknown variant `dleete`",
                path.display()
            )),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with(&format!("{}:4: unknown key \"ctlr-k\"", path.display())),
            "{shown:?}"
        );
        assert_eq!(
            km.resolve(Mode::Normal, key("j")),
            Some(&Action::Down),
            "defaults kept"
        );
    }

    #[test]
    fn an_unknown_keymap_name_says_where_keymaps_live() {
        let (_, errs) = Keymap::load(Some("nope"), None);
        assert!(
            errs[0].to_string().contains("no such keymap"),
            "{}",
            errs[0]
        );
    }

    fn fixtures(kind: &str) -> (PathBuf, Vec<PathBuf>) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/keymaps")
            .join(kind);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        (dir, files)
    }

    /// Loads a fixture by path, with its folder as the user keymap folder so
    /// that `extends` can name a sibling file.
    fn load_path(path: &Path) -> (Keymap, Vec<ConfigError>) {
        Keymap::load(path.to_str(), path.parent())
    }

    #[test]
    fn valid_fixtures_load_without_errors() {
        let (_, files) = fixtures("valid");
        assert!(files.len() >= 3);
        for path in files {
            let (_, errs) = load_path(&path);
            assert!(errs.is_empty(), "{}: {}", path.display(), errs[0]);
        }
    }

    #[test]
    fn a_fixture_moving_delete_off_ctrl_d_keeps_everything_else() {
        let (dir, _) = fixtures("valid");
        let (km, errs) = load_path(&dir.join("two-keys.toml"));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(km.resolve(Mode::Normal, key("ctrl-d")), None);
        assert_eq!(km.resolve(Mode::Normal, key("D")), Some(&Action::Delete));
        assert_eq!(
            km.resolve(Mode::Normal, key("f2")),
            Some(&Action::Goto(View::Pods))
        );
        assert_eq!(km.resolve(Mode::Normal, key("ctrl-k")), Some(&Action::Kill));
        assert_eq!(
            km.resolve(Mode::Dialog, key("enter")),
            Some(&Action::Accept)
        );
    }

    #[test]
    fn a_fixture_extending_tmux_safe_gets_its_parents_and_every_mode() {
        let (dir, _) = fixtures("valid");
        let (km, errs) = load_path(&dir.join("vim-extras.toml"));
        assert!(errs.is_empty(), "{errs:?}");
        for (mode, k, action) in [
            (Mode::Normal, "alt-j", Some(Action::PageDown)),
            (Mode::Normal, "shift-tab", Some(Action::SortReverse)),
            (Mode::Normal, "space", Some(Action::Enter)),
            (Mode::Normal, "6", Some(Action::Goto(View::CronJobs))),
            // From tmux-safe: capitals for destructive actions, no ctrl-k.
            (Mode::Normal, "K", Some(Action::Kill)),
            (Mode::Normal, "ctrl-k", None),
            // From default, through tmux-safe.
            (Mode::Normal, "j", Some(Action::Down)),
            (Mode::Dialog, "ctrl-p", Some(Action::PrevField)),
            (Mode::Dialog, "backtab", Some(Action::PrevField)),
            (Mode::Input, "ctrl-g", Some(Action::Back)),
            (Mode::Input, "enter", Some(Action::Accept)),
        ] {
            assert_eq!(km.resolve(mode, key(k)), action.as_ref(), "{mode:?} {k}");
        }
    }

    #[test]
    fn the_readme_example_adds_two_keys() {
        let (dir, _) = fixtures("valid");
        let (km, errs) = load_path(&dir.join("readme-example.toml"));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(km.resolve(Mode::Normal, key("x")), Some(&Action::Describe));
        assert_eq!(km.resolve(Mode::Normal, key("d")), Some(&Action::Describe));
        assert_eq!(
            km.resolve(Mode::Normal, key("6")),
            Some(&Action::Goto(View::Nodes))
        );
    }

    #[test]
    fn a_fixture_without_extends_lies_over_the_default() {
        let (dir, _) = fixtures("valid");
        let (km, errs) = load_path(&dir.join("standalone.toml"));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(km.resolve(Mode::Normal, key("x")), Some(&Action::Describe));
        assert_eq!(km.resolve(Mode::Normal, key("d")), Some(&Action::Describe));
        assert_eq!(km.resolve(Mode::Normal, key("q")), Some(&Action::Quit));
    }

    #[test]
    fn invalid_fixtures_name_file_line_and_problem_and_keep_the_default() {
        // Each invalid fixture's first line is `# expect: <line>: <text in the message>`.
        let (_, files) = fixtures("invalid");
        assert!(files.len() >= 6);
        let default = Keymap::built_in_default();
        for path in files {
            let text = std::fs::read_to_string(&path).expect("fixture readable");
            let expect = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# expect: "))
                .unwrap_or_else(|| panic!("{} lacks an expect line", path.display()));
            let (line, needle) = expect.split_once(": ").expect("expect line is `N: text`");
            let (km, errs) = load_path(&path);
            let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            assert_eq!(shown.len(), 1, "{}: {shown:?}", path.display());
            assert!(
                shown[0].starts_with(&format!("{}:{line}: ", path.display())),
                "{}",
                shown[0]
            );
            assert!(shown[0].contains(needle), "{} lacks {needle:?}", shown[0]);
            for mode in [Mode::Normal, Mode::Dialog, Mode::Input] {
                assert_eq!(
                    km.bindings(mode),
                    default.bindings(mode),
                    "{}: a bad keymap falls back to the default",
                    path.display()
                );
            }
        }
    }
}

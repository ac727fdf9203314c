//! Themes: styles by meaning (ok, danger, selection…) over a named palette.
//! Widgets ask for a role, never a colour. A user theme names a parent and
//! overrides a few roles; a role a theme leaves out falls back to a related
//! one, so a partial theme still draws everything.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use crate::layers::Layered;
use kubedeck_core::config_file::{ConfigError, line_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Text,
    Muted,
    Ok,
    Warning,
    Danger,
    Info,
    Accent,
    Selection,
    Header,
    Title,
    Border,
    Breadcrumb,
    StatusBar,
    Sparkline,
    SparklineTarget,
    Dialog,
    DialogBorder,
    Key,
    /// Search matches in the log view.
    Highlight,
    /// The log view's pod prefixes, one per `LogLine::colour()`.
    #[serde(rename = "log-pod-1")]
    LogPod1,
    #[serde(rename = "log-pod-2")]
    LogPod2,
    #[serde(rename = "log-pod-3")]
    LogPod3,
    #[serde(rename = "log-pod-4")]
    LogPod4,
    #[serde(rename = "log-pod-5")]
    LogPod5,
    #[serde(rename = "log-pod-6")]
    LogPod6,
}

impl Role {
    /// The role of a log line's pod prefix for its colour index.
    pub(crate) fn log_pod(colour: u8) -> Role {
        const PODS: [Role; 6] = [
            Role::LogPod1,
            Role::LogPod2,
            Role::LogPod3,
            Role::LogPod4,
            Role::LogPod5,
            Role::LogPod6,
        ];
        PODS[usize::from(colour) % PODS.len()]
    }

    /// The role to use when a theme does not set this one.
    fn fallback(self) -> Option<Role> {
        match self {
            Role::Text => None,
            Role::Info | Role::Header | Role::Selection | Role::Sparkline | Role::Key => {
                Some(Role::Accent)
            }
            Role::Title | Role::Breadcrumb => Some(Role::Header),
            Role::SparklineTarget => Some(Role::Warning),
            Role::Highlight => Some(Role::Selection),
            Role::LogPod1 => Some(Role::Info),
            Role::LogPod2 => Some(Role::Ok),
            Role::LogPod3 => Some(Role::Warning),
            Role::LogPod4 => Some(Role::Accent),
            Role::LogPod5 => Some(Role::Breadcrumb),
            Role::LogPod6 => Some(Role::Key),
            Role::DialogBorder => Some(Role::Border),
            Role::StatusBar | Role::Dialog | Role::Border => Some(Role::Muted),
            Role::Muted | Role::Ok | Role::Warning | Role::Danger | Role::Accent => {
                Some(Role::Text)
            }
        }
    }
}

/// The themes `:theme` offers: the built-in ones, then the user's files.
pub(crate) fn names(user_dir: Option<&Path>) -> Vec<String> {
    BUILT_IN
        .iter()
        .map(|(n, _)| (*n).to_string())
        .chain(kubedeck_core::config::file_stems(user_dir, &["toml"]))
        .collect()
}

pub(crate) const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../themes/dark.toml")),
    ("light", include_str!("../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../themes/high-contrast.toml"),
    ),
];

pub(crate) const DEFAULT_THEME: &str = "dark";

#[derive(Debug, Clone, Default)]
pub struct Theme {
    styles: HashMap<Role, Style>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    extends: Option<Spanned<String>>,
    #[serde(default)]
    palette: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    roles: BTreeMap<Spanned<String>, Spanned<RawStyle>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawStyle {
    Fg(String),
    Full {
        fg: Option<String>,
        bg: Option<String>,
        #[serde(default)]
        bold: bool,
        #[serde(default)]
        italic: bool,
        #[serde(default)]
        underline: bool,
        #[serde(default)]
        dim: bool,
        #[serde(default)]
        reversed: bool,
    },
}

impl Theme {
    /// The style of a role, following fallbacks for roles the theme omits.
    pub(crate) fn style(&self, role: Role) -> Style {
        let mut r = role;
        loop {
            if let Some(s) = self.styles.get(&r) {
                return *s;
            }
            match r.fallback() {
                Some(next) => r = next,
                None => return Style::default(),
            }
        }
    }

    /// Loads a theme by name (built-in or in the user's theme folder) or
    /// path. On any error the default theme is used and the errors returned.
    /// With `no_color`, colours are dropped and emphasis kept.
    pub fn load(
        name: Option<&str>,
        user_dir: Option<&Path>,
        no_color: bool,
    ) -> (Theme, Vec<ConfigError>) {
        let mut theme = Theme::default();
        let mut errors = Vec::new();
        if let Err(e) = theme.layer_named(DEFAULT_THEME, None, &[]) {
            errors.extend(e);
        }
        if let Some(name) = name.filter(|n| *n != DEFAULT_THEME) {
            let mut chosen = theme.clone();
            match chosen.layer_named(name, user_dir, &[]) {
                Ok(()) => theme = chosen,
                Err(e) => errors.extend(e),
            }
        }
        if no_color {
            theme.strip_colours();
        }
        (theme, errors)
    }

    fn strip_colours(&mut self) {
        for (role, style) in self.styles.iter_mut() {
            let mut plain = Style::default().add_modifier(style.add_modifier);
            // Without colour, the selection and search matches must still
            // stand out.
            if matches!(role, Role::Selection | Role::Highlight) {
                plain = plain.add_modifier(Modifier::REVERSED);
            }
            *style = plain;
        }
        self.styles
            .entry(Role::Selection)
            .or_insert(Style::default().add_modifier(Modifier::REVERSED));
    }
}

impl Layered for Theme {
    const KIND: &'static str = "theme";
    const BUILT_IN: &'static [(&'static str, &'static str)] = BUILT_IN;

    fn layer_text(
        &mut self,
        _name: &str,
        file: &str,
        text: &str,
        user_dir: Option<&Path>,
        chain: &[String],
    ) -> Result<(), Vec<ConfigError>> {
        let raw: RawTheme = toml::from_str(text).map_err(|e| {
            let mut err = ConfigError::from_toml(file, text, &e);
            // serde's message for an untagged enum names an internal type.
            if err.message.contains("did not match any variant") {
                err.message = "a role is a colour (\"red\", \"#rrggbb\" or a palette name) or a table like { fg = \"red\", bold = true }".into();
            }
            vec![err]
        })?;
        let mut next = self.clone();
        if let Some(parent) = &raw.extends {
            next.extend(parent, file, text, user_dir, chain)?;
        }
        let mut errors = Vec::new();
        let colour = |value: &Spanned<String>, errors: &mut Vec<ConfigError>| -> Option<Color> {
            let v = value.get_ref();
            let resolved = raw
                .palette
                .get(v)
                .map_or(v.as_str(), |p| p.get_ref().as_str());
            match Color::from_str(resolved) {
                Ok(c) => Some(c),
                Err(_) => {
                    errors.push(ConfigError::new(
                        file,
                        Some(line_of(text, value.span().start)),
                        format!("{v:?} is not a colour: use a palette name, a colour name like \"red\", or \"#rrggbb\""),
                    ));
                    None
                }
            }
        };
        for value in raw.palette.values() {
            if Color::from_str(value.get_ref()).is_err() {
                colour(value, &mut errors);
            }
        }
        for (role_name, style) in &raw.roles {
            let line = Some(line_of(text, role_name.span().start));
            let role = match Role::deserialize(toml::Value::String(role_name.get_ref().clone())) {
                Ok(r) => r,
                Err(e) => {
                    errors.push(ConfigError::new(
                        file,
                        line,
                        format!("unknown role: {}", e.message().trim()),
                    ));
                    continue;
                }
            };
            let at = |s: &str| Spanned::new(style.span(), s.to_string());
            let parsed = match style.get_ref() {
                RawStyle::Fg(fg) => colour(&at(fg), &mut errors).map(|c| Style::default().fg(c)),
                RawStyle::Full {
                    fg,
                    bg,
                    bold,
                    italic,
                    underline,
                    dim,
                    reversed,
                } => {
                    let mut s = Style::default();
                    if let Some(fg) = fg {
                        s = colour(&at(fg), &mut errors).map_or(s, |c| s.fg(c));
                    }
                    if let Some(bg) = bg {
                        s = colour(&at(bg), &mut errors).map_or(s, |c| s.bg(c));
                    }
                    for (on, m) in [
                        (bold, Modifier::BOLD),
                        (italic, Modifier::ITALIC),
                        (underline, Modifier::UNDERLINED),
                        (dim, Modifier::DIM),
                        (reversed, Modifier::REVERSED),
                    ] {
                        if *on {
                            s = s.add_modifier(m);
                        }
                    }
                    Some(s)
                }
            };
            if let Some(s) = parsed {
                next.styles.insert(role, s);
            }
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

    use super::*;

    /// Every role, for checks that cover them all.
    const ALL_ROLES: &[Role] = &[
        Role::Text,
        Role::Muted,
        Role::Ok,
        Role::Warning,
        Role::Danger,
        Role::Info,
        Role::Accent,
        Role::Selection,
        Role::Header,
        Role::Title,
        Role::Border,
        Role::Breadcrumb,
        Role::StatusBar,
        Role::Sparkline,
        Role::SparklineTarget,
        Role::Dialog,
        Role::DialogBorder,
        Role::Key,
        Role::Highlight,
        Role::LogPod1,
        Role::LogPod2,
        Role::LogPod3,
        Role::LogPod4,
        Role::LogPod5,
        Role::LogPod6,
    ];

    #[test]
    fn built_in_themes_parse_and_set_the_core_roles() {
        for (name, _) in BUILT_IN {
            let (theme, errs) = Theme::load(Some(name), None, false);
            assert!(errs.is_empty(), "{name}: {}", errs[0]);
            for role in [Role::Ok, Role::Warning, Role::Danger, Role::Selection] {
                assert_ne!(theme.style(role), Style::default(), "{name} {role:?}");
            }
            assert_ne!(theme.style(Role::Ok), theme.style(Role::Danger), "{name}");
        }
    }

    #[test]
    fn a_user_theme_inherits_and_overrides_a_role() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("mine.toml"),
            "extends = \"light\"\n[roles]\ndanger = { fg = \"#ff0000\", bold = true }\n",
        )
        .expect("write");
        let (mine, errs) = Theme::load(Some("mine"), Some(dir.path()), false);
        assert!(errs.is_empty(), "{errs:?}");
        let (light, _) = Theme::load(Some("light"), None, false);
        assert_eq!(
            mine.style(Role::Danger),
            Style::default()
                .fg(Color::Rgb(255, 0, 0))
                .add_modifier(Modifier::BOLD)
        );
        assert_eq!(mine.style(Role::Ok), light.style(Role::Ok));
    }

    #[test]
    fn omitted_roles_fall_back_to_related_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("tiny.toml"),
            "[roles]\ntext = \"white\"\naccent = \"cyan\"\n",
        )
        .expect("write");
        let mut theme = Theme::default();
        theme
            .layer_named("tiny", Some(dir.path()), &[])
            .expect("loads");
        assert_eq!(theme.style(Role::Title), Style::default().fg(Color::Cyan));
        assert_eq!(theme.style(Role::Danger), Style::default().fg(Color::White));
    }

    /// Writes `t0` … `t{n-1}`, each extending the next; the last sets the
    /// accent.
    fn chain_of(dir: &Path, n: usize) {
        for i in 0..n {
            let text = if i + 1 < n {
                format!("extends = \"t{}\"\n", i + 1)
            } else {
                "[roles]\naccent = \"magenta\"\n".to_string()
            };
            std::fs::write(dir.join(format!("t{i}.toml")), text).expect("write");
        }
    }

    #[test]
    fn a_long_chain_of_parents_loads_and_a_too_long_one_is_not_called_a_loop() {
        let dir = tempfile::tempdir().expect("tempdir");
        chain_of(dir.path(), 20);
        let (theme, errs) = Theme::load(Some("t0"), Some(dir.path()), false);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(theme.style(Role::Accent).fg, Some(Color::Magenta));

        let dir = tempfile::tempdir().expect("tempdir");
        chain_of(dir.path(), 300);
        let (_, errs) = Theme::load(Some("t0"), Some(dir.path()), false);
        let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(shown[0].contains("longer than 32 files"), "{shown:?}");
        assert!(!shown[0].contains("loop"), "{shown:?}");
    }

    #[test]
    fn a_loop_names_the_files_in_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.toml"), "extends = \"b\"\n").expect("write");
        std::fs::write(dir.path().join("b.toml"), "extends = \"a\"\n").expect("write");
        let (_, errs) = Theme::load(Some("a"), Some(dir.path()), false);
        let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(shown[0].contains("a.toml:1: "), "{shown:?}");
        assert!(shown[0].contains("in a loop: "), "{shown:?}");
        assert!(shown[0].contains("b.toml → "), "{shown:?}");
    }

    #[test]
    fn no_color_drops_colours_but_keeps_the_selection_visible() {
        let (theme, _) = Theme::load(None, None, true);
        for role in ALL_ROLES {
            let s = theme.style(*role);
            assert_eq!((s.fg, s.bg), (None, None), "{role:?}");
        }
        assert!(
            theme
                .style(Role::Selection)
                .add_modifier
                .contains(Modifier::REVERSED)
        );
    }

    #[test]
    fn bad_colours_and_roles_are_reported_by_line_and_the_default_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[roles]\nok = \"grene\"\ndangerous = \"red\"\n").expect("write");
        let (theme, errs) = Theme::load(Some("bad"), Some(dir.path()), false);
        let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(
            shown[0].starts_with(&format!("{}:2: \"grene\" is not a colour", path.display())),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with(&format!("{}:3: unknown role", path.display())),
            "{shown:?}"
        );
        let (dark, _) = Theme::load(None, None, false);
        assert_eq!(theme.style(Role::Ok), dark.style(Role::Ok));
    }

    fn fixtures(kind: &str) -> (PathBuf, Vec<PathBuf>) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/themes")
            .join(kind);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        (dir, files)
    }

    /// Loads a fixture by path, with its folder as the user theme folder so
    /// that `extends` can name a sibling file.
    fn load_fixture(dir: &Path, path: &Path) -> (Theme, Vec<ConfigError>) {
        Theme::load(path.to_str(), Some(dir), false)
    }

    fn styles_of(theme: &Theme) -> Vec<Style> {
        ALL_ROLES.iter().map(|r| theme.style(*r)).collect()
    }

    #[test]
    fn valid_fixtures_load_without_errors_and_differ_from_the_default() {
        let (dir, files) = fixtures("valid");
        assert!(files.len() >= 3);
        let (dark, _) = Theme::load(None, None, false);
        for path in files {
            let (theme, errs) = load_fixture(&dir, &path);
            assert!(errs.is_empty(), "{}: {}", path.display(), errs[0]);
            assert_ne!(styles_of(&theme), styles_of(&dark), "{}", path.display());
        }
    }

    #[test]
    fn a_child_fixture_keeps_its_parents_roles_and_overrides_its_own() {
        let (dir, _) = fixtures("valid");
        let (child, errs) = load_fixture(&dir, &dir.join("child-of-light.toml"));
        assert!(errs.is_empty(), "{errs:?}");
        let (light, _) = Theme::load(Some("light"), None, false);
        assert_eq!(
            child.style(Role::Danger),
            Style::default()
                .fg(Color::Rgb(0xd7, 0, 0))
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        );
        assert_eq!(
            child.style(Role::Selection),
            Style::default()
                .fg(Color::Black)
                .bg(Color::Rgb(0xff, 0xf8, 0xc5))
        );
        for role in [Role::Ok, Role::Warning, Role::Header, Role::Text] {
            assert_eq!(child.style(role), light.style(role), "{role:?}");
        }
    }

    #[test]
    fn a_full_fixture_sets_every_role_itself() {
        let (dir, _) = fixtures("valid");
        let (full, errs) = load_fixture(&dir, &dir.join("full.toml"));
        assert!(errs.is_empty(), "{errs:?}");
        let (dark, _) = Theme::load(None, None, false);
        for role in ALL_ROLES {
            assert_ne!(full.style(*role), dark.style(*role), "{role:?}");
        }
        assert_eq!(
            full.style(Role::Dialog),
            Style::default()
                .fg(Color::Rgb(0xe0, 0xe0, 0xe0))
                .bg(Color::Indexed(236))
        );
    }

    #[test]
    fn a_minimal_fixture_draws_every_role_through_fallbacks() {
        let (dir, _) = fixtures("valid");
        let path = dir.join("minimal.toml");
        let text = std::fs::read_to_string(&path).expect("fixture readable");
        // On its own, every role it omits falls back to text or accent.
        let mut alone = Theme::default();
        alone
            .layer_text("minimal", "minimal", &text, None, &[])
            .expect("minimal fixture loads");
        let accent = Style::default().fg(Color::Magenta);
        let plain = Style::default().fg(Color::White);
        for role in ALL_ROLES {
            let want = match role {
                Role::Accent
                | Role::Info
                | Role::Header
                | Role::Selection
                | Role::Sparkline
                | Role::Key
                | Role::Title
                | Role::Breadcrumb
                | Role::Highlight
                | Role::LogPod1
                | Role::LogPod4
                | Role::LogPod5
                | Role::LogPod6 => accent,
                _ => plain,
            };
            assert_eq!(alone.style(*role), want, "{role:?}");
        }
        // Loaded as the user's theme it lies over the default theme, which
        // keeps the roles it omits.
        let (loaded, errs) = load_fixture(&dir, &path);
        assert!(errs.is_empty(), "{errs:?}");
        let (dark, _) = Theme::load(None, None, false);
        assert_eq!(loaded.style(Role::Text), plain);
        assert_eq!(loaded.style(Role::Accent), accent);
        assert_eq!(loaded.style(Role::Danger), dark.style(Role::Danger));
        assert_eq!(loaded.style(Role::Title), dark.style(Role::Title));
    }

    /// Checks one invalid fixture against its `# expect: <line>: <text>`
    /// first line: one error, starting with `<path>:<line>: ` and
    /// containing the text, and the default theme in use.
    fn check_invalid(dir: &Path, path: &Path, dark: &Theme) {
        let text = std::fs::read_to_string(path).expect("fixture readable");
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks an expect line", path.display()));
        let (line, needle) = expect.split_once(": ").expect("expect line is `N: text`");
        let (theme, errs) = load_fixture(dir, path);
        let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(shown.len(), 1, "{}: {shown:?}", path.display());
        assert!(
            shown[0].starts_with(&format!("{}:{line}: ", path.display())),
            "{}: {}",
            path.display(),
            shown[0]
        );
        assert!(shown[0].contains(needle), "{} lacks {needle:?}", shown[0]);
        assert_eq!(
            styles_of(&theme),
            styles_of(dark),
            "{}: a bad theme falls back to the default",
            path.display()
        );
    }

    #[test]
    fn invalid_fixtures_name_file_line_and_problem_and_keep_the_default() {
        let (dir, files) = fixtures("invalid");
        assert!(files.len() >= 8);
        let (dark, _) = Theme::load(None, None, false);
        for path in files {
            check_invalid(&dir, &path, &dark);
        }
    }
}

//! The user's settings (`<XDG config dir>/kubedeck/config.toml`) and where
//! kubedeck keeps its files. Unknown keys are errors, so a typo is reported
//! with its line instead of being silently ignored. A file that cannot be
//! used fails closed: its safety settings are unknown, so every context is
//! read-only until it is fixed (see [`Config::broken`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config_file::{ConfigError, read_optional};

/// kubedeck's folders, following the XDG base directories.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl Paths {
    /// The user's folders; None when no home directory is known.
    pub fn discover() -> Option<Paths> {
        let dirs = directories::ProjectDirs::from("", "", "kubedeck")?;
        Some(Paths {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
            state_dir: dirs
                .state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .to_path_buf(),
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn themes_dir(&self) -> PathBuf {
        self.config_dir.join("themes")
    }

    pub fn keymaps_dir(&self) -> PathBuf {
        self.config_dir.join("keymaps")
    }

    pub fn runbooks_dir(&self) -> PathBuf {
        self.config_dir.join("runbooks")
    }

    pub(crate) fn audit_log(&self) -> PathBuf {
        self.data_dir.join("audit.jsonl")
    }

    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("kubedeck.log")
    }

    /// Copies of edits that could not be applied (a conflict), kept so
    /// that nothing typed is lost.
    pub fn edits_dir(&self) -> PathBuf {
        self.state_dir.join("edits")
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub theme: Option<String>,
    pub keymap: Option<String>,
    /// Refuse every change to every cluster unless a context says otherwise.
    #[serde(default)]
    pub readonly: bool,
    /// Namespaces offered first by `:ns`.
    #[serde(default)]
    pub favourite_namespaces: Vec<String>,
    /// Wheel scrolling and clicks in the console (`mouse = false`: the
    /// terminal keeps the mouse, for selecting text).
    #[serde(default = "default_true")]
    pub mouse: bool,
    /// Context name patterns (`*` matches any run of characters) whose
    /// destructive actions need the resource's name typed to confirm.
    #[serde(default = "default_protected")]
    pub protected_contexts: Vec<String>,
    /// Settings for one kubeconfig context, by its name.
    #[serde(default)]
    pub contexts: BTreeMap<String, ContextConfig>,
    /// Which CronJobs the backups view and `kubedeck backup` treat as backups.
    #[serde(default)]
    pub backups: BackupsConfig,
    /// Where sparklines come from: `[metrics]`.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// How long a Warning event stays the overview's latest warning; an
    /// older one has faded (`warning-window = "15m"`).
    #[serde(
        default = "default_warning_window",
        deserialize_with = "deserialize_duration"
    )]
    pub warning_window: std::time::Duration,
    /// What a shell in a container runs (`s` on a pod), as argv; by
    /// default k9s's: bash where the image has it, else sh.
    #[serde(default = "default_shell", deserialize_with = "deserialize_shell")]
    pub shell: Vec<String>,
    /// Whether a Secret's key may be revealed (`x` on a Secret) in a
    /// read-only context; off by default, as every other action is.
    #[serde(default)]
    pub allow_reveal_in_read_only: bool,
    /// Why the file could not be used. Its `readonly` and protected
    /// contexts are then unknown, so nothing may be changed.
    #[serde(skip)]
    pub broken: Option<ConfigError>,
}

/// `[metrics]`: a Prometheus (`[metrics.prometheus]`, else metrics-server
/// is sampled) and the PromQL templates (`[metrics.queries]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MetricsConfig {
    pub prometheus: Option<crate::metrics::PrometheusConfig>,
    #[serde(default)]
    pub queries: crate::metrics::Queries,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BackupsConfig {
    /// Name parts (case-insensitive) that make a CronJob a backup; the
    /// label `kubedeck.io/backup=true` counts whatever this says.
    #[serde(default = "default_backup_patterns")]
    pub patterns: Vec<String>,
}

fn default_backup_patterns() -> Vec<String> {
    crate::ops::backups::DEFAULT_PATTERNS
        .iter()
        .map(|p| p.to_string())
        .collect()
}

impl Default for BackupsConfig {
    fn default() -> BackupsConfig {
        BackupsConfig {
            patterns: default_backup_patterns(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ContextConfig {
    pub readonly: Option<bool>,
    pub namespace: Option<String>,
    pub theme: Option<String>,
    pub prometheus: Option<String>,
}

fn default_warning_window() -> std::time::Duration {
    std::time::Duration::from_secs(15 * 60)
}

/// A duration as operators type it (`15m`, `1h30m`); a bad one is a
/// config error like any other.
fn deserialize_duration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<std::time::Duration, D::Error> {
    let text = String::deserialize(d)?;
    kubedeck_kube::duration::parse(&text).map_err(serde::de::Error::custom)
}

fn default_shell() -> Vec<String> {
    crate::exec::DEFAULT_SHELL
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// A command as argv; an empty one could never start a shell.
fn deserialize_shell<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let argv = Vec::<String>::deserialize(d)?;
    if argv.first().is_none_or(|a| a.trim().is_empty()) {
        return Err(serde::de::Error::custom(
            "shell must name a program, e.g. [\"bash\"] or [\"sh\", \"-c\", \"...\"]",
        ));
    }
    Ok(argv)
}

/// The names (file stems, sorted) of the files in `dir` with one of the
/// extensions `exts`: a user's themes, keymaps or runbooks, by name, read
/// from the directory listing alone.
pub fn file_stems(dir: Option<&Path>, exts: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = dir
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| exts.iter().any(|x| e == *x)))
        .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .collect();
    out.sort();
    out
}

fn default_true() -> bool {
    true
}

fn default_protected() -> Vec<String> {
    vec!["*prod*".to_string()]
}

impl Default for Config {
    fn default() -> Config {
        Config {
            theme: None,
            keymap: None,
            readonly: false,
            favourite_namespaces: Vec::new(),
            mouse: true,
            protected_contexts: default_protected(),
            contexts: BTreeMap::new(),
            backups: BackupsConfig::default(),
            metrics: MetricsConfig::default(),
            warning_window: default_warning_window(),
            shell: default_shell(),
            allow_reveal_in_read_only: false,
            broken: None,
        }
    }
}

impl Config {
    /// Reads the config file. A missing file means the defaults; a bad one
    /// (unreadable, unparsable, an unknown key, a wrong type) means the
    /// defaults marked [`broken`](Config::broken), plus the error to show.
    pub fn load(path: &Path) -> (Config, Option<ConfigError>) {
        let file = path.display().to_string();
        match read_optional(path) {
            Ok(None) => (Config::default(), None),
            Ok(Some(text)) => Config::from_text(&file, &text),
            Err(e) => Config::broken_by(e),
        }
    }

    /// Reads `text`, the contents of `file`, as [`load`](Config::load) does.
    pub fn from_text(file: &str, text: &str) -> (Config, Option<ConfigError>) {
        match toml::from_str::<Config>(text) {
            Ok(c) => (c, None),
            Err(e) => Config::broken_by(ConfigError::from_toml(file, text, &e)),
        }
    }

    fn broken_by(error: ConfigError) -> (Config, Option<ConfigError>) {
        let config = Config {
            broken: Some(error.clone()),
            ..Config::default()
        };
        (config, Some(error))
    }

    /// Why nothing may be changed whatever the context: the file is broken.
    pub fn refusal(&self) -> Option<String> {
        self.broken.as_ref().map(|e| {
            format!(
                "config {e}; kubedeck changes nothing until the file is fixed (read-only views still work)"
            )
        })
    }

    /// Whether a context is read-only: its own setting wins over the global
    /// one; with a broken file every context is.
    pub fn readonly_for(&self, context: &str) -> bool {
        self.broken.is_some()
            || self
                .contexts
                .get(context)
                .and_then(|c| c.readonly)
                .unwrap_or(self.readonly)
    }

    /// The Prometheus to use in `context`: the `url` (from `--prometheus`,
    /// else the context's `prometheus`, else `[metrics.prometheus]`) with
    /// `[metrics.prometheus]`'s credentials; None for metrics-server.
    pub fn prometheus_for(
        &self,
        context: &str,
        url: Option<&str>,
    ) -> Option<crate::metrics::PrometheusConfig> {
        let url = url
            .map(str::to_string)
            .or_else(|| self.contexts.get(context)?.prometheus.clone())
            .or_else(|| {
                let p = self.metrics.prometheus.as_ref()?;
                (!p.url.is_empty()).then(|| p.url.clone())
            })?;
        Some(crate::metrics::PrometheusConfig {
            url,
            ..self.metrics.prometheus.clone().unwrap_or_default()
        })
    }

    /// Whether `context` matches a protected pattern, ignoring case (so
    /// `*prod*` covers `Production-EU`). A broken file needs no more: it
    /// makes every context read-only.
    pub fn is_protected(&self, context: &str) -> bool {
        let context = context.to_lowercase();
        self.protected_contexts
            .iter()
            .any(|p| glob_match(&p.to_lowercase(), &context))
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures(kind: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/config")
            .join(kind);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn the_warning_window_is_a_duration_defaulting_to_15m() {
        assert_eq!(
            Config::default().warning_window,
            std::time::Duration::from_secs(900)
        );
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/config/valid/warning-window.toml");
        let (config, err) = Config::load(&path);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(config.warning_window, std::time::Duration::from_secs(1800));
    }

    #[test]
    fn valid_fixtures_load_without_errors() {
        let files = fixtures("valid");
        assert!(!files.is_empty());
        for path in files {
            let (_, err) = Config::load(&path);
            assert!(
                err.is_none(),
                "{}: {}",
                path.display(),
                err.map(|e| e.to_string()).unwrap_or_default()
            );
        }
    }

    #[test]
    fn invalid_fixtures_name_file_line_and_problem() {
        // Each invalid fixture's first line is `# expect: <line>: <text in the message>`.
        let files = fixtures("invalid");
        assert!(!files.is_empty());
        for path in files {
            let text = std::fs::read_to_string(&path).expect("fixture readable");
            let expect = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# expect: "))
                .unwrap_or_else(|| panic!("{} lacks an expect line", path.display()));
            let (line, needle) = expect.split_once(": ").expect("expect line is `N: text`");
            let (config, err) = Config::load(&path);
            let err = err.unwrap_or_else(|| panic!("{} loaded without error", path.display()));
            let shown = err.to_string();
            assert!(
                shown.starts_with(&format!("{}:{line}: ", path.display())),
                "{shown}"
            );
            assert!(shown.contains(needle), "{shown} lacks {needle:?}");
            assert_eq!(config.broken.as_ref(), Some(&err));
            assert!(
                config.readonly_for("kind-dev"),
                "a bad file fails closed: {shown}"
            );
        }
    }

    #[test]
    fn the_prometheus_url_comes_from_the_flag_then_the_context_then_metrics() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/valid/metrics.toml");
        let (config, err) = Config::load(&path);
        assert!(err.is_none(), "{err:?}");
        let p = config
            .prometheus_for("staging", None)
            .expect("the context's");
        assert_eq!(p.url, "http://prometheus.staging:9090");
        assert_eq!(p.timeout, std::time::Duration::from_secs(5));
        assert_eq!(p.ca_file, Some(PathBuf::from("/etc/ssl/private-ca.pem")));
        assert!(p.basic_auth.is_some_and(|b| b.username == "kubedeck"));
        let p = config
            .prometheus_for("other", None)
            .expect("[metrics.prometheus]");
        assert_eq!(p.url, "https://prometheus.example.com");
        let p = config.prometheus_for("staging", Some("http://127.0.0.1:1"));
        assert_eq!(p.map(|p| p.url).as_deref(), Some("http://127.0.0.1:1"));
        assert!(config.metrics.queries.pod_restarts.contains("max by"));
        assert_eq!(
            config.metrics.queries.pod_cpu,
            crate::metrics::Queries::default().pod_cpu
        );
        assert_eq!(Config::default().prometheus_for("any", None), None);
    }

    #[test]
    fn file_stems_list_a_directorys_files_by_extension_sorted() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["mine.toml", "b.yaml", "a.yml", "notes.txt"] {
            std::fs::write(dir.path().join(f), "").expect("write");
        }
        assert_eq!(file_stems(Some(dir.path()), &["toml"]), ["mine"]);
        assert_eq!(file_stems(Some(dir.path()), &["yaml", "yml"]), ["a", "b"]);
        assert!(file_stems(Some(&dir.path().join("none")), &["toml"]).is_empty());
        assert!(file_stems(None, &["toml"]).is_empty());
    }

    #[test]
    fn reveals_in_read_only_contexts_are_off_unless_the_config_allows_them() {
        assert!(!Config::default().allow_reveal_in_read_only);
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/valid/reveal.toml");
        let (config, err) = Config::load(&path);
        assert!(err.is_none(), "{err:?}");
        assert!(config.allow_reveal_in_read_only && config.readonly_for("any"));
        let (broken, _) = Config::from_text("c.toml", "allow-reveal-in-read-only = 1\n");
        assert!(
            !broken.allow_reveal_in_read_only,
            "a broken file allows nothing"
        );
    }

    #[test]
    fn the_mouse_is_on_unless_the_config_turns_it_off() {
        assert!(Config::default().mouse);
        let config: Config = toml::from_str("readonly = true\n").expect("parses");
        assert!(config.mouse);
        let config: Config = toml::from_str("mouse = false\n").expect("parses");
        assert!(!config.mouse);
        assert!(toml::from_str::<Config>("mouse = \"off\"\n").is_err());
    }

    #[test]
    fn context_settings_override_global_readonly() {
        let config: Config =
            toml::from_str("readonly = true\n[contexts.dev]\nreadonly = false\n").expect("parses");
        assert!(!config.readonly_for("dev"));
        assert!(config.readonly_for("prod-eu"));
    }

    #[test]
    fn protected_contexts_default_to_names_containing_prod() {
        let config = Config::default();
        assert!(config.is_protected("gke_acme_europe-west1_prod-eu"));
        assert!(config.is_protected("production"));
        assert!(!config.is_protected("kubedeck-sim"));
        assert!(glob_match(
            "arn:*:cluster/live-*",
            "arn:aws:eks:cluster/live-1"
        ));
        assert!(!glob_match("live-*-a", "live-1-b"));
    }

    /// Issue #19: `readonly = true` next to a typo once dropped the whole
    /// file, and kubedeck ran read-write.
    #[test]
    fn a_broken_file_keeps_every_context_read_only_and_says_where() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        for (text, line, problem) in [
            (
                "readonly = true\nthem = \"dark\"\n",
                2,
                "unknown field `them`",
            ),
            ("readonly = \"yes\"\n", 1, "invalid type"),
            ("readonly = true\n[contexts\n", 2, ""),
        ] {
            std::fs::write(&path, text).expect("write config");
            let (config, err) = Config::load(&path);
            assert!(err.is_some(), "{text:?} loaded");
            assert!(config.readonly_for("kind-dev"), "{text:?}");
            assert!(config.readonly_for("prod"), "{text:?}");
            let refusal = config.refusal().expect("a broken file refuses");
            let at = format!("config {}:{line}: ", path.display());
            assert!(refusal.starts_with(&at), "{refusal}");
            assert!(refusal.contains(problem), "{refusal}");
            assert!(refusal.contains("until the file is fixed"), "{refusal}");
        }
        std::fs::write(&path, "readonly = false\n").expect("write config");
        let (config, err) = Config::load(&path);
        assert_eq!(err, None);
        assert!(!config.readonly_for("kind-dev") && config.refusal().is_none());
    }

    #[test]
    fn protected_patterns_ignore_case() {
        let config: Config =
            toml::from_str("protected-contexts = [\"PROD\", \"*-Live-*\"]\n").expect("parses");
        assert!(config.is_protected("prod"));
        assert!(config.is_protected("Prod"));
        assert!(config.is_protected("eks-LIVE-eu"));
        assert!(
            !config.is_protected("production"),
            "no `*`, so a whole name"
        );
        assert!(!config.is_protected("live-eu"));
        assert!(Config::default().is_protected("Production-EU"));
        assert!(Config::default().is_protected("PROD"));
    }

    #[test]
    fn backup_patterns_default_to_backup_and_dump_and_can_be_set() {
        assert_eq!(Config::default().backups.patterns, ["backup", "dump"]);
        let config: Config =
            toml::from_str("[backups]\npatterns = [\"pgdump\", \"snapshot\"]\n").expect("parses");
        assert_eq!(config.backups.patterns, ["pgdump", "snapshot"]);
        let config: Config = toml::from_str("[backups]\n").expect("parses");
        assert_eq!(config.backups, BackupsConfig::default());
        let err = toml::from_str::<Config>("[backups]\npattern = [\"x\"]\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `pattern`"), "{err}");
    }

    #[test]
    fn a_missing_file_is_the_defaults_without_error() {
        let (config, err) = Config::load(Path::new("/nonexistent/kubedeck/config.toml"));
        assert_eq!((config, err), (Config::default(), None));
    }
}

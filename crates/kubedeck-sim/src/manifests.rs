//! Loads Kubernetes manifests (files or folders, YAML or JSON,
//! multi-document, `kind: List`) into the store with `kubectl apply`
//! semantics: namespaces first, create when absent, otherwise a three-way
//! merge onto the live object, and the last-applied-configuration
//! annotation kept up to date. Errors name the file, line and document.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};

use super::api::objects::{storage, unview};
use super::patch;
use super::resources::ResourceDef;
use super::store::Store;

pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// One object from a manifest, with where it came from.
struct Doc {
    origin: String,
    /// 1-based number among the file's non-empty documents.
    number: usize,
    /// The line of the document's first content.
    line: usize,
    obj: Value,
}

impl Doc {
    fn error(&self, msg: impl std::fmt::Display) -> anyhow::Error {
        anyhow!(
            "{}:{}: document {}: {msg}",
            self.origin,
            self.line,
            self.number
        )
    }
}

/// Applies every manifest in the given files and folders (folders
/// recursively, `*.yaml`, `*.yml` and `*.json`, in path order).
pub(crate) fn load_paths(store: &Store, paths: &[PathBuf]) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            collect_files(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut docs = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        docs.extend(parse(&text, &file.display().to_string())?);
    }
    apply_docs(store, docs)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Applies a multi-document YAML (or JSON) text; `origin` names it in errors.
pub(crate) fn apply_text(store: &Store, text: &str, origin: &str) -> anyhow::Result<()> {
    let docs = parse(text, origin)?;
    apply_docs(store, docs)
}

/// A YAML document's text and the 1-based line it starts on.
struct Chunk {
    text: String,
    first_line: usize,
}

/// Splits a YAML stream at `---` lines, keeping line numbers.
fn split_documents(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut cur = Chunk {
        text: String::new(),
        first_line: 1,
    };
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let is_separator =
            line.starts_with("---") && line[3..].chars().next().is_none_or(char::is_whitespace);
        if is_separator {
            chunks.push(std::mem::replace(
                &mut cur,
                Chunk {
                    text: String::new(),
                    first_line: lineno,
                },
            ));
            // Content after the marker (`--- {a: 1}`) belongs to the document.
            cur.text.push_str(&line[3..]);
            cur.text.push('\n');
        } else if line.starts_with("...") && line[3..].trim().is_empty() {
            cur.text.push('\n');
        } else {
            if cur.text.is_empty() && chunks.is_empty() {
                cur.first_line = 1;
            }
            cur.text.push_str(line);
            cur.text.push('\n');
        }
    }
    chunks.push(cur);
    chunks
}

fn has_content(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    })
}

fn content_line(chunk: &Chunk) -> usize {
    chunk
        .text
        .lines()
        .position(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .map_or(chunk.first_line, |i| chunk.first_line + i)
}

/// Parses a manifest text into objects, expanding `List`s.
fn parse(text: &str, origin: &str) -> anyhow::Result<Vec<Doc>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return parse_json(text, origin);
    }
    let mut docs = Vec::new();
    let mut number = 0;
    for chunk in split_documents(text) {
        if !has_content(&chunk.text) {
            continue;
        }
        number += 1;
        let line = content_line(&chunk);
        let obj: Value = match serde_norway::from_str(&chunk.text) {
            Ok(v) => v,
            Err(e) => {
                let (at, msg) = match e.location() {
                    Some(loc) => {
                        let full = e.to_string();
                        let msg = full.split(" at line ").next().unwrap_or(&full).to_string();
                        (
                            chunk.first_line + loc.line() - 1,
                            format!("invalid YAML: {msg} (column {})", loc.column()),
                        )
                    }
                    None => (line, format!("invalid YAML: {e}")),
                };
                bail!("{origin}:{at}: document {number}: {msg}");
            }
        };
        if obj.is_null() {
            continue;
        }
        push_doc(&mut docs, origin, number, line, obj)?;
    }
    Ok(docs)
}

/// A JSON file: one object (possibly a List or an array of objects) or
/// several concatenated.
fn parse_json(text: &str, origin: &str) -> anyhow::Result<Vec<Doc>> {
    let line_at = |byte: usize| text[..byte.min(text.len())].matches('\n').count() + 1;
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut number = 0;
    let mut offset = 0;
    while let Some(next) = stream.next() {
        number += 1;
        let obj = next.map_err(|e| {
            anyhow!(
                "{origin}:{}: document {number}: invalid JSON: {e}",
                e.line()
            )
        })?;
        let rest = &text[offset..];
        let line = line_at(offset + (rest.len() - rest.trim_start().len()));
        offset = stream.byte_offset();
        match obj {
            Value::Array(items) => {
                for item in items {
                    push_doc(&mut docs, origin, number, line, item)?;
                }
            }
            obj => push_doc(&mut docs, origin, number, line, obj)?,
        }
    }
    Ok(docs)
}

fn push_doc(
    docs: &mut Vec<Doc>,
    origin: &str,
    number: usize,
    line: usize,
    obj: Value,
) -> anyhow::Result<()> {
    let doc = Doc {
        origin: origin.to_string(),
        number,
        line,
        obj,
    };
    if !doc.obj.is_object() {
        return Err(doc.error("not a Kubernetes object (expected a mapping)"));
    }
    let kind = doc.obj["kind"].as_str().unwrap_or_default();
    if kind.ends_with("List") && doc.obj["items"].is_array() {
        let items = doc.obj["items"].as_array().cloned().unwrap_or_default();
        for item in items {
            docs.push(Doc {
                obj: item,
                origin: doc.origin.clone(),
                ..doc
            });
        }
        return Ok(());
    }
    docs.push(doc);
    Ok(())
}

fn resolve(store: &Store, doc: &Doc) -> anyhow::Result<&'static ResourceDef> {
    let api_version = doc.obj["apiVersion"].as_str().unwrap_or_default();
    let kind = doc.obj["kind"].as_str().unwrap_or_default();
    if api_version.is_empty() {
        return Err(doc.error("apiVersion not set"));
    }
    if kind.is_empty() {
        return Err(doc.error("kind not set"));
    }
    match store.registry().by_kind(api_version, kind) {
        Some(r) if r.stored => Ok(r),
        // A served view of a stored kind (autoscaling/v1 HPAs): stored as
        // the API server stores it.
        Some(r) if !std::ptr::eq(storage(r), r) => Ok(r),
        Some(_) => Err(doc.error(format!(
            "kind {kind:?} in apiVersion {api_version:?} cannot be stored"
        ))),
        None => Err(doc.error(format!(
            "unknown kind {kind:?} in apiVersion {api_version:?}"
        ))),
    }
}

/// Applies parsed documents: namespaces first so later objects can land in
/// them, CRDs next so that their objects are known.
fn apply_docs(store: &Store, docs: Vec<Doc>) -> anyhow::Result<()> {
    let first = |doc: &Doc, kind: &str, api_version: &str| {
        doc.obj["kind"] == kind && doc.obj["apiVersion"] == api_version
    };
    let (crds, rest): (Vec<Doc>, Vec<Doc>) = docs
        .into_iter()
        .partition(|d| first(d, "CustomResourceDefinition", "apiextensions.k8s.io/v1"));
    let (namespaces, rest): (Vec<Doc>, Vec<Doc>) =
        rest.into_iter().partition(|d| first(d, "Namespace", "v1"));
    for batch in [namespaces, crds, rest] {
        let mut resolved = Vec::with_capacity(batch.len());
        for mut doc in batch {
            let served = resolve(store, &doc)?;
            let res = storage(served);
            if !std::ptr::eq(res, served) {
                doc.obj = unview(served, std::mem::take(&mut doc.obj));
            }
            resolved.push((res, doc));
        }
        for (res, doc) in resolved {
            apply_one(store, res, &doc)?;
        }
    }
    Ok(())
}

/// `kubectl apply` for one object.
fn apply_one(store: &Store, res: &'static ResourceDef, doc: &Doc) -> anyhow::Result<()> {
    let mut obj = doc.obj.clone();
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if name.is_empty() {
        return Err(doc.error("metadata.name is required"));
    }
    let ns = if res.namespaced {
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .filter(|n| !n.is_empty())
            .unwrap_or("default")
            .to_string();
        obj["metadata"]["namespace"] = json!(ns);
        ns
    } else {
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("namespace");
        }
        String::new()
    };
    // The annotation records the configuration without itself; like
    // kubectl, an object without annotations records `"annotations":{}`.
    match obj["metadata"]["annotations"].as_object_mut() {
        Some(ann) => {
            ann.remove(LAST_APPLIED);
        }
        None => obj["metadata"]["annotations"] = json!({}),
    }
    let last_applied = format!("{obj}\n");
    let mut modified = obj.clone();
    modified["metadata"]["annotations"][LAST_APPLIED] = json!(last_applied);

    let result = match store.get(res, &ns, &name) {
        None => store.create(res, modified),
        Some(live) => {
            let original = live["metadata"]["annotations"][LAST_APPLIED]
                .as_str()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .unwrap_or(Value::Null);
            let patch = patch::apply_patch(res, &original, &modified);
            let merged =
                patch::strategic_merge(res, &live, &patch).map_err(|e| doc.error(&e.message))?;
            store.update(res, merged)
        }
    };
    result.map(|_| ()).map_err(|e| doc.error(&e.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources;
    use std::fs;

    fn store_with_default_ns() -> std::sync::Arc<Store> {
        let store = Store::new(100);
        store
            .create(
                &resources::NAMESPACES,
                json!({"metadata": {"name": "default"}}),
            )
            .unwrap();
        store
    }

    const DEPLOY: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
";

    #[test]
    fn folders_load_recursively_namespaces_first() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("apps")).unwrap();
        // The deployment sorts before the namespace it lives in.
        fs::write(dir.path().join("apps/a-web.yaml"), DEPLOY).unwrap();
        fs::write(
            dir.path().join("z-ns.yml"),
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n",
        )
        .unwrap();
        fs::write(dir.path().join("notes.txt"), "not a manifest").unwrap();
        fs::write(
            dir.path().join("cm.json"),
            r#"{"apiVersion":"v1","kind":"List","items":[
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}},
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}]}"#,
        )
        .unwrap();
        let store = store_with_default_ns();
        load_paths(&store, &[dir.path().to_path_buf()]).unwrap();
        let web = store.get(&resources::DEPLOYMENTS, "demo", "web").unwrap();
        assert_eq!(web["spec"]["replicas"], 2);
        let last = web["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .unwrap();
        let last: Value = serde_json::from_str(last).unwrap();
        assert_eq!(last["spec"]["replicas"], 2);
        assert_eq!(last["metadata"]["annotations"], json!({}));
        assert_eq!(last["metadata"]["namespace"], "demo");
        assert!(store.get(&resources::CONFIGMAPS, "default", "a").is_some());
        assert!(store.get(&resources::CONFIGMAPS, "default", "b").is_some());
    }

    #[test]
    fn an_autoscaling_v1_hpa_is_stored_as_v2() {
        let store = store_with_default_ns();
        apply_text(
            &store,
            "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n\
             spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  \
             minReplicas: 2\n  maxReplicas: 5\n  targetCPUUtilizationPercentage: 60\n",
            "hpa.yaml",
        )
        .unwrap();
        let hpa = store.get(&resources::HPAS, "default", "web").unwrap();
        assert_eq!(hpa["apiVersion"], "autoscaling/v2");
        assert_eq!(
            hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            60
        );
    }

    #[test]
    fn reapplying_updates_like_kubectl_apply() {
        let store = store_with_default_ns();
        let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n---\n";
        apply_text(&store, &format!("{ns}{DEPLOY}"), "m.yaml").unwrap();
        // Another writer scales it; kubectl-style apply of a changed image
        // keeps fields the manifest never set.
        store
            .modify(&resources::DEPLOYMENTS, "demo", "web", |d| {
                d["spec"]["template"]["metadata"]["annotations"] = json!({"x": "y"});
            })
            .unwrap();
        let changed = DEPLOY
            .replace("nginx:1.25", "nginx:1.26")
            .replace("  replicas: 2\n", "");
        apply_text(&store, &changed, "m.yaml").unwrap();
        let web = store.get(&resources::DEPLOYMENTS, "demo", "web").unwrap();
        assert_eq!(
            web["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.26"
        );
        assert_eq!(web["spec"]["template"]["metadata"]["annotations"]["x"], "y");
        // replicas was in the last applied configuration and is now gone, so
        // the server default applies again.
        assert_eq!(web["spec"]["replicas"], 1);
        assert_eq!(web["metadata"]["generation"], 3);
    }

    #[test]
    fn unknown_kinds_name_file_line_and_document() {
        let store = store_with_default_ns();
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# the app\napiVersion: apps/v1\nkind: Deplyment\nmetadata:\n  name: web\n";
        let err = apply_text(&store, text, "manifests/app.yaml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "manifests/app.yaml:7: document 2: unknown kind \"Deplyment\" in apiVersion \"apps/v1\""
        );
        // Nothing is applied when a later document is bad.
        assert!(store.get(&resources::CONFIGMAPS, "default", "a").is_none());
    }

    #[test]
    fn yaml_errors_carry_the_file_line() {
        let store = store_with_default_ns();
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n   bad: indent\n";
        let err = apply_text(&store, text, "x.yaml").unwrap_err().to_string();
        assert!(
            err.starts_with("x.yaml:10: document 2: invalid YAML: "),
            "{err}"
        );
    }

    #[test]
    fn validation_errors_use_the_document_line() {
        let store = store_with_default_ns();
        let text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n";
        let err = apply_text(&store, text, "cm.yaml").unwrap_err().to_string();
        assert!(
            err.starts_with("cm.yaml:2: document 1: ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value"),
            "{err}"
        );
        let err = apply_text(&store, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: nowhere\nspec:\n  containers: [{name: a, image: b}]\n", "p.yaml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "p.yaml:1: document 1: namespaces \"nowhere\" not found"
        );
    }

    #[test]
    fn missing_paths_are_reported() {
        let store = store_with_default_ns();
        let err = load_paths(&store, &[PathBuf::from("/nonexistent/m.yaml")]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/m.yaml"));
    }
}

//! Editing any object as YAML, as `kubectl edit` does: the object as the
//! editor shows it (no managedFields, no status; the resourceVersion kept,
//! so that the replace is refused if someone changed it meanwhile), the
//! edited text read back, what changed (as paths, for the audit log) and a
//! unified diff for the confirm dialog. A Secret's values never reach the
//! diff, the paths or a message: only that they changed. Pure, no I/O.

use std::fmt;

use serde_json::Value;

use super::command::{Command, ResourceRef};

/// Lines of context around each change in the diff, as `diff -u`.
pub const DIFF_CONTEXT: usize = 3;

/// The comment the editor's file starts with, as kubectl's.
pub const HEADER: &str =
    "# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#";

/// The edited object a replace sends, with the text it was edited from.
/// The command skips it when serialized (the audit log records the
/// command's other fields), and its Debug says only sizes, so that a
/// Secret's values cannot reach a log through `{:?}`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EditedText {
    /// The YAML the editor opened with (header comments aside).
    pub original: String,
    /// The YAML the user saved.
    pub edited: String,
    /// What the editor did not show (the status), as JSON, sent back as
    /// read: a resource without a status subresource would lose it.
    pub status: String,
}

impl fmt::Debug for EditedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "EditedText {{ original: {} bytes, edited: {} bytes, status: {} bytes }}",
            self.original.len(),
            self.edited.len(),
            self.status.len()
        )
    }
}

/// What saving the editor's file asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Nothing but comments: kubectl's "empty file aborts the edit".
    Empty,
    /// The same object as opened.
    Unchanged,
    /// The replace to plan: a dry run, then the confirm dialog.
    Edit(Box<Command>),
}

/// Reads the saved file against the object opened (`original`, read at
/// `resource_version`, with `status` not shown): empty, unchanged, or the
/// replace it asks for; an error says what is wrong with the file.
pub fn saved(
    object: &ResourceRef,
    resource_version: &str,
    original: &str,
    status: &str,
    file: &str,
) -> Result<Saved, String> {
    let Some(mut after) = parse(file)? else {
        return Ok(Saved::Empty);
    };
    let before = parse(original)?.unwrap_or(Value::Null);
    // The edit applies to the version read, whatever the text says.
    after["metadata"]["resourceVersion"] = Value::String(resource_version.to_string());
    if after == before {
        return Ok(Saved::Unchanged);
    }
    if let Some(e) = identity_changed(&before, &after) {
        return Err(e);
    }
    Ok(Saved::Edit(Box::new(Command::Replace {
        object: Box::new(object.clone()),
        resource_version: resource_version.to_string(),
        changed: changed_paths(&before, &after),
        text: Box::new(EditedText {
            original: original.to_string(),
            edited: without_comments(file),
            status: status.to_string(),
        }),
    })))
}

/// Whether the resource is the core group's Secrets.
pub fn is_secret(object: &ResourceRef) -> bool {
    object.group.is_empty() && object.plural == "secrets"
}

/// The object as the editor shows it: without managedFields and status.
pub fn strip(obj: &mut Value) {
    if let Some(meta) = obj["metadata"].as_object_mut() {
        meta.remove("managedFields");
    }
    if let Some(map) = obj.as_object_mut() {
        map.remove("status");
    }
}

/// The stripped object as YAML.
pub fn to_yaml(obj: &Value) -> Result<String, String> {
    serde_norway::to_string(obj).map_err(|e| format!("cannot render the object as YAML: {e}"))
}

/// The editor's file: the header, any notes (an error to fix, an earlier
/// edit to re-apply) as comments, then the YAML.
pub fn editor_text(yaml: &str, notes: &[String]) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for note in notes {
        for line in note.lines() {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("#\n");
    }
    out.push_str(yaml);
    out
}

/// What the user saved: None when the file holds nothing but comments and
/// blanks (kubectl's "empty file aborts the edit"), else the object, or
/// why it is not one.
pub fn parse(text: &str) -> Result<Option<Value>, String> {
    let meaningful = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if !meaningful {
        return Ok(None);
    }
    let value: Value =
        serde_norway::from_str(text).map_err(|e| format!("the file is not valid YAML: {e}"))?;
    if !value.is_object() {
        return Err("the file does not hold an object (a YAML mapping)".into());
    }
    Ok(Some(value))
}

/// The file without its comment lines, which kubectl ignores too.
pub fn without_comments(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if !line.trim_start().starts_with('#') {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Which of the edit's identifying fields changed, as kubectl checks before
/// sending: the object named is the one replaced, nothing else.
pub fn identity_changed(before: &Value, after: &Value) -> Option<String> {
    let fields = [
        ("apiVersion", "/apiVersion"),
        ("kind", "/kind"),
        ("metadata.name", "/metadata/name"),
        ("metadata.namespace", "/metadata/namespace"),
    ];
    let changed: Vec<&str> = fields
        .iter()
        .filter(|(_, p)| before.pointer(p) != after.pointer(p))
        .map(|(f, _)| *f)
        .collect();
    (!changed.is_empty()).then(|| {
        format!(
            "{} cannot be changed by an edit (edit the object they name instead)",
            changed.join(", ")
        )
    })
}

/// The paths whose values differ (`data.key`, `spec.replicas`,
/// `metadata.labels.app`), leaves only, sorted; never values.
pub fn changed_paths(before: &Value, after: &Value) -> Vec<String> {
    let mut out: Vec<String> = changes(before, after)
        .iter()
        .map(|(pointer, _)| dotted(pointer))
        .collect();
    out.sort();
    out
}

/// Each changed leaf as a JSON pointer with its edited value (null when
/// the edit removed it): what reading the object back looks for.
pub fn changes(before: &Value, after: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    walk(before, after, String::new(), &mut out);
    out
}

fn walk(a: &Value, b: &Value, pointer: String, out: &mut Vec<(String, Value)>) {
    if a == b {
        return;
    }
    let join = |k: &str| format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                walk(v, y.get(k).unwrap_or(&Value::Null), join(k), out);
            }
            for (k, v) in y {
                if !x.contains_key(k) {
                    walk(&Value::Null, v, join(k), out);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                walk(v, w, format!("{pointer}/{i}"), out);
            }
        }
        _ => out.push((pointer, b.clone())),
    }
}

/// `/spec/ports/0/port` → `spec.ports[0].port`.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    if out.is_empty() { ".".into() } else { out }
}

/// A Secret's `data` and `stringData` values replaced by their sizes;
/// `changed_from` (the original) marks the values that differ from it, so
/// that a diff still shows which keys changed without showing a value.
pub fn mask_secret(obj: &Value, changed_from: Option<&Value>) -> Value {
    let mut out = obj.clone();
    for field in ["data", "stringData"] {
        let Some(map) = out[field].as_object_mut() else {
            continue;
        };
        for (k, v) in map.iter_mut() {
            let len = v.as_str().map_or(0, str::len);
            let changed = changed_from.is_some_and(|o| o[field].get(k) != Some(&*v));
            *v = Value::String(if changed {
                format!("<hidden, {len} characters, edited>")
            } else {
                format!("<hidden, {len} characters>")
            });
        }
    }
    if let Some(a) = out["metadata"]["annotations"].as_object_mut()
        && let Some(v) = a.get_mut("kubectl.kubernetes.io/last-applied-configuration")
    {
        *v = Value::String("<hidden>".into());
    }
    out
}

/// The diff the confirm dialog shows, original → edited, as YAML; a
/// Secret's values masked in both.
pub fn dialog_diff(object: &ResourceRef, before: &Value, after: &Value) -> Vec<String> {
    let (before, after) = if is_secret(object) {
        (mask_secret(before, None), mask_secret(after, Some(before)))
    } else {
        (before.clone(), after.clone())
    };
    match (to_yaml(&before), to_yaml(&after)) {
        (Ok(a), Ok(b)) => unified_diff(&a, &b, DIFF_CONTEXT),
        (Err(e), _) | (_, Err(e)) => vec![e],
    }
}

/// A unified diff of two texts by lines: `@@ -a,n +b,m @@` hunks of the
/// changed lines (`-`, `+`) with `context` unchanged lines (` `) around.
/// Empty when the texts are equal.
pub fn unified_diff(before: &str, after: &str, context: usize) -> Vec<String> {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let ops = line_ops(&a, &b);
    // Indices into `ops` of the changes, grouped into hunks whose context
    // would touch.
    let changes: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| !matches!(o, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < changes.len() {
        let start = changes[i].saturating_sub(context);
        let mut end = changes[i];
        while i + 1 < changes.len() && changes[i + 1] <= end + 2 * context + 1 {
            i += 1;
            end = changes[i];
        }
        let end = (end + context + 1).min(ops.len());
        let hunk = &ops[start..end];
        let (a_start, b_start) = position(&ops[..start]);
        let a_len = hunk.iter().filter(|o| !matches!(o, Op::Add(_))).count();
        let b_len = hunk.iter().filter(|o| !matches!(o, Op::Del(_))).count();
        out.push(format!(
            "@@ -{},{a_len} +{},{b_len} @@",
            a_start + usize::from(a_len > 0),
            b_start + usize::from(b_len > 0)
        ));
        for op in hunk {
            out.push(match op {
                Op::Same(l) => format!(" {l}"),
                Op::Del(l) => format!("-{l}"),
                Op::Add(l) => format!("+{l}"),
            });
        }
        i += 1;
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op<'a> {
    Same(&'a str),
    Del(&'a str),
    Add(&'a str),
}

/// Lines of each side before `ops`.
fn position(ops: &[Op<'_>]) -> (usize, usize) {
    let a = ops.iter().filter(|o| !matches!(o, Op::Add(_))).count();
    let b = ops.iter().filter(|o| !matches!(o, Op::Del(_))).count();
    (a, b)
}

/// The edit script from `a` to `b`: the common head and tail taken first
/// (an edit is usually a few lines in a long object), a longest common
/// subsequence over what is left.
fn line_ops<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Op<'a>> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops: Vec<Op<'a>> = a[..head].iter().map(|l| Op::Same(l)).collect();
    // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..].
    let (n, m) = (ma.len(), mb.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if ma[i] == mb[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && ma[i] == mb[j] {
            ops.push(Op::Same(ma[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Deletions first, as diff -u prints them.
            ops.push(Op::Del(ma[i]));
            i += 1;
        } else {
            ops.push(Op::Add(mb[j]));
            j += 1;
        }
    }
    ops.extend(a[a.len() - tail..].iter().map(|l| Op::Same(l)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm_ref() -> ResourceRef {
        ResourceRef {
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            plural: "configmaps".into(),
            namespace: Some("demo".into()),
            name: "app".into(),
        }
    }

    fn secret_ref() -> ResourceRef {
        ResourceRef {
            kind: "Secret".into(),
            plural: "secrets".into(),
            ..cm_ref()
        }
    }

    #[test]
    fn stripping_drops_managed_fields_and_status_but_keeps_the_resource_version() {
        let mut obj = json!({
            "kind": "Deployment",
            "metadata": {"name": "web", "resourceVersion": "42", "managedFields": [{"manager": "kubectl"}]},
            "spec": {"replicas": 2},
            "status": {"readyReplicas": 2}
        });
        strip(&mut obj);
        assert_eq!(
            obj,
            json!({"kind": "Deployment", "metadata": {"name": "web", "resourceVersion": "42"}, "spec": {"replicas": 2}})
        );
    }

    #[test]
    fn the_edited_file_parses_without_its_comments_and_empty_means_cancel() {
        let text = editor_text(
            "data:\n  a: '1'\n",
            &["conflict:\nsomeone changed it".into()],
        );
        assert!(text.starts_with("# Please edit the object below."));
        assert!(text.contains("# conflict:\n# someone changed it\n#\ndata:"));
        assert_eq!(parse(&text), Ok(Some(json!({"data": {"a": "1"}}))));
        assert_eq!(parse(&format!("{HEADER}\n\n")), Ok(None));
        assert!(
            parse("data: [unclosed")
                .unwrap_err()
                .contains("not valid YAML")
        );
        assert!(parse("- a\n- b\n").unwrap_err().contains("mapping"));
    }

    #[test]
    fn a_saved_file_is_empty_unchanged_or_an_edit() {
        let original = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: demo\n  resourceVersion: '7'\ndata:\n  mode: blue\n";
        let read = |file: &str| saved(&cm_ref(), "7", original, "", file);
        assert_eq!(read("# all gone\n"), Ok(Saved::Empty));
        assert_eq!(read(&editor_text(original, &[])), Ok(Saved::Unchanged));
        // Only the resourceVersion changed: it is forced back, so no change.
        assert_eq!(read(&original.replace("'7'", "'8'")), Ok(Saved::Unchanged));
        let edited = editor_text(&original.replace("blue", "green"), &["a note".into()]);
        match read(&edited).map(|s| match s {
            Saved::Edit(cmd) => Some(*cmd),
            _ => None,
        }) {
            Ok(Some(Command::Replace {
                changed,
                resource_version,
                text,
                ..
            })) => {
                assert_eq!(changed, ["data.mode"]);
                assert_eq!(resource_version, "7");
                assert!(
                    !text.edited.contains('#'),
                    "comments dropped: {}",
                    text.edited
                );
                assert!(text.edited.contains("mode: green"));
            }
            other => panic!("expected an edit, got {other:?}"),
        }
        assert!(
            read(&original.replace("name: app", "name: other"))
                .unwrap_err()
                .contains("metadata.name")
        );
        assert!(read("data: [").unwrap_err().contains("not valid YAML"));
    }

    #[test]
    fn changed_paths_name_leaves_and_never_values() {
        let before = json!({"metadata": {"labels": {"app": "web"}}, "data": {"a": "1", "b": "2"}});
        let after =
            json!({"metadata": {"labels": {"app": "web", "tier": "x"}}, "data": {"a": "9"}});
        assert_eq!(
            changed_paths(&before, &after),
            ["data.a", "data.b", "metadata.labels.tier"]
        );
        let before = json!({"spec": {"ports": [{"port": 80}, {"port": 443}]}});
        let after = json!({"spec": {"ports": [{"port": 8080}, {"port": 443}]}});
        assert_eq!(changed_paths(&before, &after), ["spec.ports[0].port"]);
        assert!(changed_paths(&before, &before).is_empty());
        let removed = changes(
            &json!({"metadata": {"annotations": {"a/b": "1"}}}),
            &json!({"metadata": {"annotations": {}}}),
        );
        assert_eq!(
            removed,
            [("/metadata/annotations/a~1b".to_string(), Value::Null)]
        );
    }

    #[test]
    fn a_change_of_kind_or_namespace_is_refused_before_sending() {
        let before = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "demo"}});
        let mut after = before.clone();
        assert_eq!(identity_changed(&before, &after), None);
        after["metadata"]["namespace"] = json!("prod");
        after["kind"] = json!("Secret");
        assert_eq!(
            identity_changed(&before, &after).unwrap(),
            "kind, metadata.namespace cannot be changed by an edit (edit the object they name instead)"
        );
    }

    #[test]
    fn the_diff_shows_only_changed_lines_with_context() {
        let before: String = (1..=20).map(|i| format!("line{i}\n")).collect();
        let after = before
            .replace("line5\n", "line5 changed\n")
            .replace("line18\n", "");
        let diff = unified_diff(&before, &after, 2);
        assert_eq!(
            diff,
            [
                "@@ -3,5 +3,5 @@",
                " line3",
                " line4",
                "-line5",
                "+line5 changed",
                " line6",
                " line7",
                "@@ -16,5 +16,4 @@",
                " line16",
                " line17",
                "-line18",
                " line19",
                " line20",
            ]
        );
        assert!(unified_diff(&before, &before, 3).is_empty());
        // Changes close together share one hunk.
        let near = before.replace("line5\n", "x\n").replace("line8\n", "y\n");
        let hunks = unified_diff(&before, &near, 2);
        assert_eq!(hunks.iter().filter(|l| l.starts_with("@@")).count(), 1);
    }

    #[test]
    fn the_diff_of_an_addition_at_the_end_and_of_an_empty_side() {
        assert_eq!(
            unified_diff("a\n", "a\nb\n", 3),
            ["@@ -1,1 +1,2 @@", " a", "+b"]
        );
        assert_eq!(unified_diff("", "a\n", 3), ["@@ -0,0 +1,1 @@", "+a"]);
    }

    #[test]
    fn a_configmap_diff_shows_the_values() {
        let before = json!({"kind": "ConfigMap", "data": {"mode": "blue", "other": "x"}});
        let after = json!({"kind": "ConfigMap", "data": {"mode": "green", "other": "x"}});
        let diff = dialog_diff(&cm_ref(), &before, &after);
        assert!(diff.contains(&"-  mode: blue".to_string()), "{diff:?}");
        assert!(diff.contains(&"+  mode: green".to_string()), "{diff:?}");
    }

    #[test]
    fn a_secret_diff_says_which_keys_changed_but_shows_no_value() {
        let before =
            json!({"kind": "Secret", "data": {"password": "c2VjcmV0MQ==", "user": "YWRtaW4="}});
        let after =
            json!({"kind": "Secret", "data": {"password": "c2VjcmV0Mg==", "user": "YWRtaW4="}});
        let diff = dialog_diff(&secret_ref(), &before, &after);
        let text = diff.join("\n");
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(!text.contains("YWRtaW4"), "{text}");
        assert!(
            text.contains("-  password: <hidden, 12 characters>")
                && text.contains("+  password: <hidden, 12 characters, edited>"),
            "{text}"
        );
        assert!(
            !text.contains("-  user"),
            "an unchanged key is no change: {text}"
        );
    }

    #[test]
    fn the_edited_text_stays_out_of_debug() {
        let t = EditedText {
            original: "data: {a: c2VjcmV0}".into(),
            edited: "data: {a: b3RoZXI=}".into(),
            status: String::new(),
        };
        let debug = format!("{t:?}");
        assert!(
            !debug.contains("c2VjcmV0") && !debug.contains("b3RoZXI"),
            "{debug}"
        );
        assert_eq!(
            debug,
            "EditedText { original: 19 bytes, edited: 19 bytes, status: 0 bytes }"
        );
    }
}

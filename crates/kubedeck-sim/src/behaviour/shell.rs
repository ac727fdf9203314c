//! Reading `sh -c` scripts the way a shell would, far enough to find the
//! command a container runs: simple commands, pipes, redirects, assignments
//! and `$VAR` expansion.

use std::collections::HashMap;

/// `NAME=value` as a shell assignment.
pub(super) fn assignment(w: &str) -> Option<(&str, &str)> {
    let (k, v) = w.split_once('=')?;
    let valid = !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some((k, v))
}

/// The script of `sh -c SCRIPT` (bash, ash, `-ec`, `-euo pipefail -c`…).
pub(super) fn shell_script(argv: &[String]) -> Option<String> {
    let shell = argv.first()?.rsplit('/').next()?;
    if !matches!(shell, "sh" | "bash" | "ash" | "dash" | "zsh") {
        return None;
    }
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        if a.starts_with('-') && !a.starts_with("--") && a.contains('c') {
            return argv.get(i + 1).cloned();
        }
        // `-o pipefail` takes a value.
        if a == "-o" {
            i += 1;
        }
        i += 1;
    }
    None
}

pub(super) struct SimpleCommand {
    pub(super) words: Vec<String>,
    /// The target of `>` / `>>` on stdout.
    pub(super) redirect: Option<String>,
    /// Its output feeds the next command (`a | b`).
    pub(super) piped: bool,
}

/// Splits a shell script into simple commands at `|`, `&&`, `||`, `;`, `&`
/// and newlines, honouring quotes. Words keep `$…` unexpanded; expansion
/// happens per command, after earlier assignments took effect.
pub(super) fn split_commands(script: &str) -> Vec<SimpleCommand> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut redirect = None;
    let mut pending_redirect: Option<bool> = None; // Some(true) for stdout
    let mut cur = String::new();
    let mut in_word = false;
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;

    let finish_word = |cur: &mut String,
                       in_word: &mut bool,
                       words: &mut Vec<String>,
                       redirect: &mut Option<String>,
                       pending: &mut Option<bool>| {
        if !*in_word {
            return;
        }
        let w = std::mem::take(cur);
        *in_word = false;
        match pending.take() {
            Some(true) => *redirect = Some(w),
            Some(false) => {}
            None => words.push(w),
        }
    };

    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    // Protect `$` from later expansion inside single quotes.
                    if chars[i] == '$' {
                        cur.push('\u{1}');
                    } else {
                        cur.push(chars[i]);
                    }
                    i += 1;
                }
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    cur.push(chars[i]);
                    i += 1;
                }
            }
            '\\' if i + 1 < chars.len() => {
                in_word = true;
                if chars[i + 1] != '\n' {
                    cur.push(chars[i + 1]);
                }
                i += 1;
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                // `$(…)` is one word part, spaces and all.
                in_word = true;
                let mut depth = 0;
                while i < chars.len() {
                    cur.push(chars[i]);
                    if chars[i] == '(' {
                        depth += 1;
                    } else if chars[i] == ')' {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            '`' => {
                in_word = true;
                cur.push_str("$(");
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    cur.push(chars[i]);
                    i += 1;
                }
                cur.push(')');
            }
            '>' | '<' => {
                // A file descriptor number just before: `2>`, `2>&1`.
                let fd_stdout = if in_word && cur.chars().all(|d| d.is_ascii_digit()) {
                    let out = c == '>' && cur == "1";
                    cur.clear();
                    in_word = false;
                    out
                } else {
                    finish_word(
                        &mut cur,
                        &mut in_word,
                        &mut words,
                        &mut redirect,
                        &mut pending_redirect,
                    );
                    c == '>'
                };
                while matches!(chars.get(i + 1), Some('>' | '|')) {
                    i += 1;
                }
                if chars.get(i + 1) == Some(&'&') {
                    // `>&2`: a descriptor, not a file.
                    i += 1;
                    pending_redirect = Some(false);
                } else {
                    pending_redirect = Some(fd_stdout);
                }
            }
            '|' | '&' | ';' | '\n' | '(' | ')' => {
                finish_word(
                    &mut cur,
                    &mut in_word,
                    &mut words,
                    &mut redirect,
                    &mut pending_redirect,
                );
                let doubled = matches!(c, '|' | '&') && chars.get(i + 1) == Some(&c);
                if doubled {
                    i += 1;
                }
                if !words.is_empty() || redirect.is_some() {
                    out.push(SimpleCommand {
                        words: std::mem::take(&mut words),
                        redirect: redirect.take(),
                        piped: c == '|' && !doubled,
                    });
                }
                pending_redirect = None;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            c if c.is_whitespace() => finish_word(
                &mut cur,
                &mut in_word,
                &mut words,
                &mut redirect,
                &mut pending_redirect,
            ),
            c => {
                in_word = true;
                cur.push(c);
            }
        }
        i += 1;
    }
    finish_word(
        &mut cur,
        &mut in_word,
        &mut words,
        &mut redirect,
        &mut pending_redirect,
    );
    if !words.is_empty() || redirect.is_some() {
        out.push(SimpleCommand {
            words,
            redirect,
            piped: false,
        });
    }
    out
}

/// Expands `$VAR`, `${VAR}` and `${VAR:-default}` from `env`; command
/// substitutions stay as written (the log renders `$(date …)` itself).
pub(super) fn expand(word: &str, env: &HashMap<String, String>) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(if chars[i] == '\u{1}' { '$' } else { chars[i] });
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('{') => {
                let end = chars[i..].iter().position(|&c| c == '}').map(|p| p + i);
                let Some(end) = end else {
                    out.extend(&chars[i..]);
                    break;
                };
                let inner: String = chars[i + 2..end].iter().collect();
                let (name, default) = match inner.split_once(":-").or(inner.split_once('-')) {
                    Some((n, d)) => (n.to_string(), Some(d.to_string())),
                    None => (inner.clone(), None),
                };
                match env.get(&name).filter(|v| !v.is_empty()) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&default.unwrap_or_default()),
                }
                i = end + 1;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                out.push_str(env.get(&name).map_or("", String::as_str));
                i = end;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    out
}

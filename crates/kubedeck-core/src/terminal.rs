//! Text from the cluster (log lines, event messages, names, API errors)
//! made safe to print on a terminal: a pod must not be able to retitle the
//! window, write the clipboard (OSC 52) or move the cursor by what it logs.

use std::borrow::Cow;

use crate::logs::sanitize;

/// `text` with every escape sequence and control character removed, as
/// [`sanitize`] does, but keeping its line breaks.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.contains('\n') {
        return sanitize(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(sanitize).collect();
    if lines.iter().all(|l| matches!(l, Cow::Borrowed(_))) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_go_and_line_breaks_stay() {
        let hostile = "a\x1b]0;pwned\x07b\n\x1b]52;c;ZXZpbA==\x07c\td\r\n\u{9b}2Je";
        let got = safe(hostile);
        assert_eq!(got, "ab\nc\td\ne");
        assert!(matches!(safe("plain\ntext"), Cow::Borrowed(_)));
    }
}

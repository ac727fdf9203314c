//! Passwords in URLs (`http://user:pass@prometheus:9090`) never shown or
//! written: the header, the recovery test's output and reports, error
//! messages and logs all go through [`Masked`] or [`mask_passwords`].

use std::borrow::Cow;
use std::fmt;

/// A URL (or any text quoting URLs) to display, its passwords as `***`.
pub struct Masked<'a>(pub &'a str);

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_passwords(self.0))
    }
}

/// `text` with the password of every `scheme://user:password@host` in it
/// replaced by `***` (the user name stays, to tell accounts apart).
pub fn mask_passwords(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(i) = rest.find("://") {
        let start = i + 3;
        let after = &rest[start..];
        // The authority ends where the path, query or fragment starts, or
        // where a quoted or parenthesised URL does.
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | ')' | '>' | ',' | ';')
                    || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority
            .rfind('@')
            .and_then(|at| Some((at, authority[..at].find(':')?)))
        {
            Some((at, colon)) => {
                out.push_str(&rest[..start + colon + 1]);
                out.push_str("***");
                out.push_str(&authority[at..]);
                changed = true;
            }
            None => out.push_str(&rest[..start + end]),
        }
        rest = &after[end..];
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_the_rest_kept() {
        let cases = [
            (
                "http://kubedeck:s3cr3t@prom:9090/api",
                "http://kubedeck:***@prom:9090/api",
            ),
            ("https://u:p%40ss@h", "https://u:***@h"),
            (
                "error sending request for url (http://a:b@h:1/q?x=1): refused",
                "error sending request for url (http://a:***@h:1/q?x=1): refused",
            ),
            (
                "two: http://a:1@x and \"https://b:2@y/\"",
                "two: http://a:***@x and \"https://b:***@y/\"",
            ),
            ("http://prom:9090/api", "http://prom:9090/api"),
            ("http://user@prom:9090", "http://user@prom:9090"),
            ("no url here: a:b@c", "no url here: a:b@c"),
            (
                "http://h/path?next=http://x:y@z",
                "http://h/path?next=http://x:***@z",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(mask_passwords(text), want, "{text}");
        }
        assert_eq!(
            Masked("http://u:pw@h").to_string(),
            "http://u:***@h".to_string()
        );
        assert!(matches!(
            mask_passwords("http://prom:9090"),
            Cow::Borrowed(_)
        ));
    }
}

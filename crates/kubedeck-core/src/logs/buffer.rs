//! The log view's memory: a bounded ring buffer of [`LogLine`]s with search,
//! filter, pause and save.
//!
//! **Bound.** The buffer holds at most [`Bound::max_lines`] lines and
//! [`Bound::max_bytes`] bytes, by default **50,000 lines and 32 MiB**,
//! whichever is reached first; the oldest lines are dropped to make room. A
//! line's cost is its text's length plus the fixed size of a [`LogLine`]
//! (pod and container names are shared `Arc<str>`s), so the bound is on
//! memory actually held, not only on text. A single line longer than
//! [`MAX_LINE_BYTES`] is cut there, so one huge line cannot take the whole
//! budget. This keeps a view left open on a chatty workload flat (k9s #1188
//! reports one growing to gigabytes).
//!
//! **Safety.** Every line's text is passed through [`sanitize`] on the way
//! in: escape sequences (CSI, OSC, DCS, …) and control characters other than
//! tab are stripped, so nothing a container prints can move the cursor, set
//! the clipboard or the title, or reset the terminal.
//!
//! **Lines are numbered.** Each line gets a sequence number that never
//! changes, so positions (the current match, the pause point) stay valid
//! while old lines are dropped at the front.

use std::collections::VecDeque;
use std::io::Write;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

/// The longest line text kept, in bytes; longer lines are cut at a char
/// boundary and marked.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

/// What a line in the stream is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// A line the container wrote.
    Log,
    /// A note from the streaming layer about a pod or container (joined,
    /// reconnecting, ended, failed), shown in the stream so the user knows.
    Status(StatusKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    /// A pod or container started streaming.
    Joined,
    /// No pod matches yet, or a container has not started yet.
    Waiting,
    /// A stream ended or failed and is being retried.
    Reconnecting,
    /// A container exited or restarted; its stream waits or resumes.
    Restarted,
    /// A stream ended for good (pod deleted, container finished, no
    /// previous container).
    Ended,
    /// A request failed in a way retrying will not fix (forbidden, …).
    Error,
}

/// One line of a container's log, or a status note about a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub pod: Arc<str>,
    pub container: Arc<str>,
    /// When the container wrote it, as the kubelet stamped it; None for
    /// lines without a parseable timestamp.
    pub time: Option<DateTime<Utc>>,
    pub text: String,
    pub kind: LineKind,
}

/// The number of prefix colours [`LogLine::colour`] chooses among.
pub(crate) const PREFIX_COLOURS: u8 = 6;

impl LogLine {
    pub fn is_status(&self) -> bool {
        matches!(self.kind, LineKind::Status(_))
    }

    /// A stable colour index (0..[`PREFIX_COLOURS`]) for the pod prefix:
    /// the same pod gets the same colour in every session, as stern does.
    pub fn colour(&self) -> u8 {
        // FNV-1a: tiny and stable across releases, unlike std's hasher.
        let mut h: u32 = 0x811c_9dc5;
        for b in self.pod.bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        (h % u32::from(PREFIX_COLOURS)) as u8
    }

    /// The `pod/container` prefix; the container is left out for a pod's
    /// only container when `with_container` is false.
    pub fn prefix(&self, with_container: bool) -> String {
        if with_container && !self.container.is_empty() {
            format!("{}/{}", self.pod, self.container)
        } else {
            self.pod.to_string()
        }
    }

    /// The line as saved or printed: prefix, optional RFC 3339 timestamp,
    /// text.
    pub fn render(&self, timestamps: bool) -> String {
        let mut out = self.prefix(true);
        out.push(' ');
        if timestamps && let Some(t) = self.time {
            out.push_str(&t.to_rfc3339_opts(SecondsFormat::Nanos, true));
            out.push(' ');
        }
        out.push_str(&self.text);
        out
    }

    fn cost(&self) -> usize {
        self.text.len() + std::mem::size_of::<LogLine>()
    }
}

/// Strips everything a terminal would interpret from log text: ANSI/ECMA-48
/// escape sequences (CSI such as colours and cursor moves, OSC such as
/// titles, hyperlinks and the OSC 52 clipboard, DCS/SOS/PM/APC strings, and
/// two- and three-byte escapes such as `ESC c`), their 8-bit C1 forms, and
/// every other control character except tab. An unterminated string
/// sequence swallows the rest of the line, as a terminal would.
pub fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    let clean = |c: char| c == '\t' || !(c.is_control() || c == '\u{7f}');
    if text.chars().all(clean) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // nF escapes (`ESC ( B`): intermediates, then one final byte.
                Some(' '..='/') => {
                    while chars.next_if(|c| matches!(c, ' '..='/')).is_some() {}
                    chars.next_if(|c| matches!(c, '0'..='~'));
                }
                // Fp/Fe/Fs (`ESC c`, `ESC 7`, `ESC =`) are two bytes; any
                // other byte ends the sequence and is judged on its own.
                Some('0'..='~') | None => {}
                Some(other) => {
                    if clean(other) {
                        out.push(other);
                    }
                }
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if clean(c) => out.push(c),
            _ => {}
        }
    }
    std::borrow::Cow::Owned(out)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Skips a CSI's parameter and intermediate bytes and its final byte. A
/// byte outside the grammar ends it early (and is dropped with it).
fn skip_csi(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if !matches!(c, '0'..='?' | ' '..='/') {
            return;
        }
    }
}

/// Skips a string sequence up to its terminator: BEL, `ESC \` or the 8-bit
/// ST.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

/// Cuts `text` to at most [`MAX_LINE_BYTES`] on a char boundary, saying how
/// much was cut (counting `already_cut` bytes a reader discarded before).
pub(crate) fn cap_line(mut text: String, already_cut: usize) -> String {
    if text.len() <= MAX_LINE_BYTES && already_cut == 0 {
        return text;
    }
    // Leave room for the marker so that a capped line is within the limit
    // and capping again leaves it alone.
    let mut end = (MAX_LINE_BYTES - 40).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text.len() - end + already_cut;
    text.truncate(end);
    text.push_str(&format!(" …[{cut} bytes cut]"));
    text
}

/// How much the buffer may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub max_lines: usize,
    pub max_bytes: usize,
}

impl Default for Bound {
    fn default() -> Self {
        Bound {
            max_lines: 50_000,
            max_bytes: 32 * 1024 * 1024,
        }
    }
}

/// A pattern for search and filter: a plain substring, or a regex, with
/// smart case (case-insensitive unless the pattern has an upper-case
/// letter, as in less and vim). Substring case folding is ASCII-only so
/// that match positions are byte ranges of the original text.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Substring { needle: String, ignore_case: bool },
    Regex(regex::Regex),
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
            && matches!(self.matcher, Matcher::Regex(_))
                == matches!(other.matcher, Matcher::Regex(_))
    }
}

impl Eq for Pattern {}

impl Pattern {
    /// A substring pattern; None for an empty one, which matches nothing useful.
    pub fn new(text: &str) -> Option<Pattern> {
        if text.is_empty() {
            return None;
        }
        let ignore_case = !text.chars().any(char::is_uppercase);
        let needle = if ignore_case {
            text.to_ascii_lowercase()
        } else {
            text.to_string()
        };
        Some(Pattern {
            source: text.to_string(),
            matcher: Matcher::Substring {
                needle,
                ignore_case,
            },
        })
    }

    /// A regular expression (Rust `regex` syntax); None for an empty one,
    /// an error naming the problem for one that does not compile.
    pub fn regex(text: &str) -> Result<Option<Pattern>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        let ignore_case = !text.chars().any(char::is_uppercase);
        let re = regex::RegexBuilder::new(text)
            .case_insensitive(ignore_case)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("bad regular expression: {e}"))?;
        Ok(Some(Pattern {
            source: text.to_string(),
            matcher: Matcher::Regex(re),
        }))
    }

    /// The pattern as the user typed it.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn is_regex(&self) -> bool {
        matches!(self.matcher, Matcher::Regex(_))
    }

    pub(crate) fn is_match(&self, text: &str) -> bool {
        match &self.matcher {
            Matcher::Substring {
                needle,
                ignore_case: true,
            } => {
                let n = needle.as_bytes();
                text.as_bytes()
                    .windows(n.len())
                    .any(|w| w.eq_ignore_ascii_case(n))
            }
            Matcher::Substring { needle, .. } => text.contains(needle.as_str()),
            Matcher::Regex(re) => re.is_match(text),
        }
    }

    /// The byte ranges of non-overlapping matches in `text`, for
    /// highlighting.
    pub(crate) fn find_all(&self, text: &str) -> Vec<Range<usize>> {
        match &self.matcher {
            Matcher::Substring {
                needle,
                ignore_case,
            } => {
                let hay = if *ignore_case {
                    std::borrow::Cow::Owned(text.to_ascii_lowercase())
                } else {
                    std::borrow::Cow::Borrowed(text)
                };
                hay.match_indices(needle.as_str())
                    .map(|(i, m)| i..i + m.len())
                    .collect()
            }
            Matcher::Regex(re) => re
                .find_iter(text)
                .filter(|m| !m.is_empty())
                .map(|m| m.range())
                .collect(),
        }
    }
}

/// A bounded ring buffer of log lines with a filter, a search and a pause
/// point. See the module documentation for the bound.
#[derive(Debug, Clone)]
pub struct LogBuffer {
    bound: Bound,
    lines: VecDeque<LogLine>,
    bytes: usize,
    /// The sequence number of `lines[0]`.
    first_seq: u64,
    /// How many lines were dropped to stay within the bound.
    dropped: u64,
    filter: Option<Pattern>,
    /// Sequence numbers of the lines that pass the filter, oldest first,
    /// kept up to date on push and drop so the filtered view costs nothing
    /// per frame. Status lines always pass, so reconnects stay visible.
    shown: VecDeque<u64>,
    search: Option<Pattern>,
    /// The view shows lines before this sequence number while paused.
    paused_at: Option<u64>,
}

impl Default for LogBuffer {
    fn default() -> Self {
        LogBuffer::new(Bound::default())
    }
}

impl LogBuffer {
    /// The view index of a sequence number, if the view shows it.
    #[cfg(test)]
    fn view_index(&self, seq: u64) -> Option<usize> {
        let i = self.view_end_index_before(seq);
        (i < self.view_len() && self.shown.get(i) == Some(&seq)).then_some(i)
    }

    /// How many lines of the view match the search.
    #[cfg(test)]
    fn match_count(&self) -> usize {
        self.shown
            .range(..self.view_len())
            .filter(|s| self.is_hit(**s))
            .count()
    }

    pub fn new(bound: Bound) -> LogBuffer {
        LogBuffer {
            bound: Bound {
                max_lines: bound.max_lines.max(1),
                max_bytes: bound.max_bytes,
            },
            lines: VecDeque::new(),
            bytes: 0,
            first_seq: 0,
            dropped: 0,
            filter: None,
            shown: VecDeque::new(),
            search: None,
            paused_at: None,
        }
    }

    pub fn bound(&self) -> Bound {
        self.bound
    }

    /// Lines held (all of them, ignoring filter and pause).
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes held, as counted against [`Bound::max_bytes`].
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Lines dropped at the front to stay within the bound.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The sequence number the next pushed line will get.
    pub fn next_seq(&self) -> u64 {
        self.first_seq + self.lines.len() as u64
    }

    /// Adds a line (sanitised and capped), dropping the oldest lines while
    /// over the bound. Lines keep arriving while the view is paused.
    pub fn push(&mut self, mut line: LogLine) {
        if let std::borrow::Cow::Owned(clean) = sanitize(&line.text) {
            line.text = clean;
        }
        line.text = cap_line(line.text, 0);
        let seq = self.next_seq();
        if self.passes(&line) {
            self.shown.push_back(seq);
        }
        self.bytes += line.cost();
        self.lines.push_back(line);
        while self.lines.len() > self.bound.max_lines
            || (self.bytes > self.bound.max_bytes && !self.lines.is_empty())
        {
            self.pop_front();
        }
    }

    fn pop_front(&mut self) {
        if let Some(old) = self.lines.pop_front() {
            self.bytes -= old.cost();
            if self.shown.front() == Some(&self.first_seq) {
                self.shown.pop_front();
            }
            self.first_seq += 1;
            self.dropped += 1;
        }
    }

    fn passes(&self, line: &LogLine) -> bool {
        line.is_status() || self.filter.as_ref().is_none_or(|f| f.is_match(&line.text))
    }

    /// The line with this sequence number, if still held.
    pub fn get(&self, seq: u64) -> Option<&LogLine> {
        let i = seq.checked_sub(self.first_seq)?;
        self.lines.get(usize::try_from(i).ok()?)
    }

    /// Keeps only lines containing `pattern` in the view (None or empty:
    /// all lines). Lines are kept in the buffer either way.
    pub fn set_filter(&mut self, pattern: Option<&str>) {
        self.set_filter_pattern(pattern.and_then(Pattern::new));
    }

    /// Keeps only lines matching a substring or regex pattern in the view.
    pub fn set_filter_pattern(&mut self, pattern: Option<Pattern>) {
        self.filter = pattern;
        self.shown = (self.first_seq..)
            .zip(self.lines.iter())
            .filter(|(_, l)| self.passes(l))
            .map(|(s, _)| s)
            .collect();
    }

    pub fn filter(&self) -> Option<&Pattern> {
        self.filter.as_ref()
    }

    /// Stops the view at the current end; the buffer keeps filling.
    pub fn pause(&mut self) {
        if self.paused_at.is_none() {
            self.paused_at = Some(self.next_seq());
        }
    }

    pub fn resume(&mut self) {
        self.paused_at = None;
    }

    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// Lines that arrived since the pause and pass the filter.
    pub fn unseen(&self) -> usize {
        self.paused_at
            .map_or(0, |p| self.view_end_index() - self.view_end_index_before(p))
    }

    fn view_end_index_before(&self, seq: u64) -> usize {
        self.shown.partition_point(|s| *s < seq)
    }

    fn view_end_index(&self) -> usize {
        self.shown.len()
    }

    /// How many lines the view shows: those passing the filter, up to the
    /// pause point.
    pub fn view_len(&self) -> usize {
        match self.paused_at {
            Some(p) => self.view_end_index_before(p),
            None => self.view_end_index(),
        }
    }

    /// The view's lines `range` (indices into the view), with their
    /// sequence numbers.
    pub fn view(&self, range: Range<usize>) -> impl Iterator<Item = (u64, &LogLine)> {
        let end = range.end.min(self.view_len());
        let start = range.start.min(end);
        self.shown
            .range(start..end)
            .filter_map(|s| self.get(*s).map(|l| (*s, l)))
    }

    /// Where a sequence number is or would be in the view: the index of
    /// the first shown line at or after it, at most the view's length.
    pub fn view_position(&self, seq: u64) -> usize {
        self.view_end_index_before(seq).min(self.view_len())
    }

    /// Sets the `/` search pattern (None or empty clears it).
    pub fn set_search(&mut self, pattern: Option<&str>) {
        self.search = pattern.and_then(Pattern::new);
    }

    /// Sets the search to a substring or regex pattern.
    pub fn set_search_pattern(&mut self, pattern: Option<Pattern>) {
        self.search = pattern;
    }

    pub fn search(&self) -> Option<&Pattern> {
        self.search.as_ref()
    }

    /// Where the search pattern matches in a line's text, for highlighting.
    pub fn highlights(&self, line: &LogLine) -> Vec<Range<usize>> {
        self.search
            .as_ref()
            .map(|p| p.find_all(&line.text))
            .unwrap_or_default()
    }

    fn is_hit(&self, seq: u64) -> bool {
        match (&self.search, self.get(seq)) {
            (Some(p), Some(l)) => !l.is_status() && p.is_match(&l.text),
            _ => false,
        }
    }

    /// The first matching line in the view after `from` (a sequence
    /// number; None starts at the top), wrapping around at the end.
    pub fn next_match(&self, from: Option<u64>) -> Option<u64> {
        let view = self.shown.range(..self.view_len());
        let start = from.map_or(0, |f| self.shown.partition_point(|s| *s <= f));
        view.clone()
            .skip(start)
            .chain(view.take(start))
            .copied()
            .find(|s| self.is_hit(*s))
    }

    /// The last matching line in the view before `from` (None starts at
    /// the bottom), wrapping around at the top.
    pub fn prev_match(&self, from: Option<u64>) -> Option<u64> {
        let len = self.view_len();
        let split = from.map_or(len, |f| self.shown.partition_point(|s| *s < f).min(len));
        let view = self.shown.range(..len);
        view.clone()
            .take(split)
            .rev()
            .chain(view.skip(split).rev())
            .copied()
            .find(|s| self.is_hit(*s))
    }

    /// Writes the log lines (not status notes) to `path`, one per line
    /// with the `pod/container` prefix and, when asked, the timestamp;
    /// only the filtered view when `filtered`. Returns how many lines were
    /// written.
    pub fn save(&self, path: &Path, timestamps: bool, filtered: bool) -> std::io::Result<usize> {
        let mut out = std::io::BufWriter::new(crate::private_file::create(path)?);
        let mut n = 0;
        let lines: Box<dyn Iterator<Item = &LogLine>> = if filtered {
            Box::new(self.view(0..usize::MAX).map(|(_, l)| l))
        } else {
            Box::new(self.lines.iter())
        };
        for line in lines.filter(|l| !l.is_status()) {
            writeln!(out, "{}", line.render(timestamps))?;
            n += 1;
        }
        out.flush()?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pod: &str, text: &str) -> LogLine {
        LogLine {
            pod: pod.into(),
            container: "app".into(),
            time: None,
            text: text.to_string(),
            kind: LineKind::Log,
        }
    }

    fn status(pod: &str, text: &str) -> LogLine {
        LogLine {
            kind: LineKind::Status(StatusKind::Reconnecting),
            ..line(pod, text)
        }
    }

    fn texts(b: &LogBuffer) -> Vec<String> {
        b.view(0..usize::MAX).map(|(_, l)| l.text.clone()).collect()
    }

    #[test]
    fn sanitize_strips_hostile_sequences() {
        let cases = [
            // Colours and cursor movement.
            ("\x1b[31mred\x1b[0m text", "red text"),
            ("a\x1b[2J\x1b[H\x1b[10;20Hb", "ab"),
            ("x\x1b[?1049hy\x1b[?25l", "xy"),
            // OSC 52 clipboard write, BEL- and ST-terminated.
            ("pre\x1b]52;c;ZXZpbA==\x07post", "prepost"),
            ("pre\x1b]52;c;ZXZpbA==\x1b\\post", "prepost"),
            // Window title.
            ("\x1b]0;title\x07after", "after"),
            // Hyperlink: the link text stays, the target goes.
            ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
            // Full reset, save cursor, charset switch, keypad mode.
            ("a\x1bcb\x1b7c\x1b(Bd\x1b=e", "abcde"),
            // Bare carriage return overwriting the line, backspace, bell.
            ("safe\rEVIL", "safeEVIL"),
            ("ab\x08\x08XY\x07", "abXY"),
            // DCS string, 8-bit CSI and OSC.
            ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),
            ("a\u{9b}31mb\u{9d}0;t\u{9c}c", "abc"),
            // Unterminated OSC swallows the rest, ESC at the very end goes.
            ("ok\x1b]0;never ends", "ok"),
            ("ok\x1b", "ok"),
            // DEL and NUL are dropped; tab stays.
            ("a\x7fb\0c\td", "abc\td"),
        ];
        for (input, want) in cases {
            let got = sanitize(input);
            assert_eq!(got, want, "sanitize({input:?})");
            assert!(
                !got.chars().any(|c| c != '\t' && c.is_control()),
                "{got:?} still has controls"
            );
        }
        assert!(matches!(
            sanitize("plain text, ünïcode"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn push_sanitises_and_caps_long_lines() {
        let mut b = LogBuffer::default();
        b.push(line("p", "\x1b]52;c;AAAA\x07hi\x1b[1m!"));
        b.push(line("p", &"é".repeat(MAX_LINE_BYTES)));
        let held: Vec<_> = b.view(0..2).map(|(_, l)| l.text.clone()).collect();
        assert_eq!(held[0], "hi!");
        assert!(held[1].len() <= MAX_LINE_BYTES);
        assert!(held[1].ends_with(" bytes cut]"));
        let cut: usize = held[1]
            .rsplit('[')
            .next()
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert_eq!(
            cut + held[1].len() - cut.to_string().len() - " …[ bytes cut]".len(),
            2 * MAX_LINE_BYTES
        );
        // Capping is idempotent: a capped line pushed again is unchanged.
        let again = held[1].clone();
        b.push(line("p", &again));
        assert_eq!(b.get(2).map(|l| l.text.as_str()), Some(again.as_str()));
    }

    #[test]
    fn ring_drops_oldest_by_lines_and_by_bytes() {
        let mut b = LogBuffer::new(Bound {
            max_lines: 3,
            max_bytes: usize::MAX,
        });
        for i in 0..5 {
            b.push(line("p", &format!("l{i}")));
        }
        assert_eq!(texts(&b), ["l2", "l3", "l4"]);
        assert_eq!((b.dropped(), b.next_seq()), (2, 5));
        assert!(b.get(1).is_none());
        assert_eq!(b.get(2).map(|l| l.text.as_str()), Some("l2"));

        let per_line = line("p", "x".repeat(100).as_str()).cost();
        let mut b = LogBuffer::new(Bound {
            max_lines: 1000,
            max_bytes: per_line * 2 + 10,
        });
        for _ in 0..5 {
            b.push(line("p", &"x".repeat(100)));
        }
        assert_eq!(b.len(), 2);
        assert!(b.bytes() <= b.bound().max_bytes);
    }

    #[test]
    fn million_lines_stay_within_the_bound() {
        let bound = Bound {
            max_lines: 50_000,
            max_bytes: 4 * 1024 * 1024,
        };
        let mut b = LogBuffer::new(bound);
        b.set_filter(Some("GET"));
        let mut high_water = 0;
        for i in 0..1_000_000u32 {
            let text = format!(
                "10.0.0.{} - - \"GET /api/orders/{i} HTTP/1.1\" 200 {} \x1b[32mok\x1b[0m",
                i % 255,
                i % 4000
            );
            b.push(line(if i % 2 == 0 { "web-a" } else { "web-b" }, &text));
            assert!(b.len() <= bound.max_lines && b.bytes() <= bound.max_bytes);
            high_water = high_water.max(b.bytes());
        }
        // Flat memory: the ring's storage does not grow past what the bound
        // needs, and the filtered index is as bounded as the lines.
        assert!(b.lines.capacity() <= 2 * bound.max_lines);
        assert!(b.shown.len() <= b.len() && b.shown.capacity() <= 2 * bound.max_lines);
        assert!(high_water <= bound.max_bytes);
        assert_eq!(b.next_seq(), 1_000_000);
        assert_eq!(b.dropped() as usize + b.len(), 1_000_000);
        let last = b
            .view(b.view_len() - 1..b.view_len())
            .next()
            .map(|(_, l)| l.text.clone());
        assert!(last.is_some_and(|t| t.contains("/api/orders/999999 ") && !t.contains('\x1b')));
    }

    #[test]
    fn filter_is_smart_case_and_keeps_status_lines() {
        let mut b = LogBuffer::default();
        b.push(line("a", "GET /healthz 200"));
        b.push(line("a", "error: connection refused"));
        b.push(status("a", "reconnecting to a (attempt 2)"));
        b.push(line("b", "ERROR: disk full"));
        b.set_filter(Some("error"));
        assert_eq!(
            texts(&b),
            [
                "error: connection refused",
                "reconnecting to a (attempt 2)",
                "ERROR: disk full"
            ]
        );
        b.set_filter(Some("ERROR"));
        assert_eq!(
            texts(&b),
            ["reconnecting to a (attempt 2)", "ERROR: disk full"]
        );
        // Lines arriving after the filter is set are filtered as they come.
        b.push(line("b", "ERROR again"));
        b.push(line("b", "fine"));
        assert_eq!(b.view_len(), 3);
        b.set_filter(None);
        assert_eq!(b.view_len(), 6);
    }

    #[test]
    fn search_finds_ranges_and_wraps_between_matches() {
        let mut b = LogBuffer::default();
        for t in ["foo bar", "nothing", "Foo and FOO", "bar", "foofoo"] {
            b.push(line("p", t));
        }
        b.set_search(Some("foo"));
        assert_eq!(b.match_count(), 3);
        let l = b.get(2).cloned().expect("line 2");
        assert_eq!(b.highlights(&l), [0..3, 8..11]);
        let l = b.get(4).cloned().expect("line 4");
        assert_eq!(b.highlights(&l), [0..3, 3..6]);
        // Forward from the top, then past the end wraps to the first.
        assert_eq!(b.next_match(None), Some(0));
        assert_eq!(b.next_match(Some(0)), Some(2));
        assert_eq!(b.next_match(Some(2)), Some(4));
        assert_eq!(b.next_match(Some(4)), Some(0));
        assert_eq!(b.prev_match(None), Some(4));
        assert_eq!(b.prev_match(Some(2)), Some(0));
        assert_eq!(b.prev_match(Some(0)), Some(4));
        // Upper case in the pattern makes it case-sensitive.
        b.set_search(Some("FOO"));
        assert_eq!(b.match_count(), 1);
        assert_eq!(b.next_match(Some(3)), Some(2));
        // Search runs over the filtered view only.
        b.set_search(Some("foo"));
        b.set_filter(Some("bar"));
        assert_eq!(b.next_match(Some(0)), Some(0));
        assert_eq!(b.view_index(3), Some(1));
        assert_eq!(b.view_index(2), None);
        b.set_search(Some(""));
        assert_eq!(b.next_match(None), None);
    }

    #[test]
    fn pause_freezes_the_view_while_the_buffer_fills() {
        let mut b = LogBuffer::default();
        b.push(line("p", "one"));
        b.push(line("p", "two"));
        b.pause();
        b.push(line("p", "three"));
        b.push(line("p", "four"));
        assert_eq!(texts(&b), ["one", "two"]);
        assert_eq!((b.len(), b.unseen()), (4, 2));
        b.set_search(Some("four"));
        assert_eq!(b.next_match(None), None, "paused view does not jump ahead");
        b.resume();
        assert_eq!(texts(&b), ["one", "two", "three", "four"]);
        assert_eq!(b.next_match(None), Some(3));
    }

    #[test]
    fn save_writes_prefixed_lines_without_status_notes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut b = LogBuffer::default();
        let time = DateTime::parse_from_rfc3339("2026-01-01T10:00:00.5Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        b.push(LogLine {
            time,
            ..line("web-1", "GET / 200")
        });
        b.push(status("web-1", "reconnecting to web-1 (attempt 1)"));
        b.push(line("web-2", "\x1b[31mGET /x 500\x1b[0m"));
        let path = dir.path().join("out.log");
        assert_eq!(b.save(&path, true, false).expect("save"), 2);
        let text = std::fs::read_to_string(&path).expect("read back");
        assert_eq!(
            text,
            "web-1/app 2026-01-01T10:00:00.500000000Z GET / 200\nweb-2/app GET /x 500\n"
        );
        b.set_filter(Some("500"));
        assert_eq!(b.save(&path, false, true).expect("save"), 1);
        assert_eq!(
            std::fs::read_to_string(&path).expect("read back"),
            "web-2/app GET /x 500\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600), "a saved log is the user's alone");
        }
    }

    #[test]
    fn prefix_colours_are_stable_per_pod() {
        let a = line("web-7d9f-abc", "x");
        let b = line("web-7d9f-abc", "y");
        assert_eq!(a.colour(), b.colour());
        assert!(a.colour() < PREFIX_COLOURS);
        let distinct: std::collections::BTreeSet<u8> = (0..20)
            .map(|i| line(&format!("web-{i}"), "").colour())
            .collect();
        assert!(distinct.len() > 1, "pods get different colours");
    }

    #[test]
    fn regex_filters_and_highlights_with_smart_case() {
        let mut b = LogBuffer::new(Bound::default());
        for t in [
            "GET /api/orders 200 12ms",
            "POST /api/pay 503 900ms",
            "get /health 200 1ms",
        ] {
            b.push(line("p", t));
        }
        b.set_filter_pattern(Pattern::regex(r" 5\d\d ").expect("compiles"));
        assert_eq!(b.view_len(), 1);
        let p = Pattern::regex("get /(api|health)")
            .expect("compiles")
            .expect("non-empty");
        assert!(p.is_regex() && p.is_match("GET /api/x") && p.is_match("get /health"));
        assert_eq!(p.find_all("x GET /api/y"), vec![2..10]);
        let strict = Pattern::regex("GET").expect("compiles").expect("non-empty");
        assert!(
            !strict.is_match("get /health"),
            "an upper-case letter makes it case-sensitive"
        );
        assert!(
            Pattern::regex("(unclosed")
                .unwrap_err()
                .starts_with("bad regular expression")
        );
        assert_eq!(Pattern::regex("").expect("empty is fine"), None);
    }
}

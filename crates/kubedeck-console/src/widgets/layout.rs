//! Table layout by priority and meaning. Each column says what of its
//! cells must survive (`Keep`) and how much it matters (`priority`); the
//! widths follow what the visible rows need, not fixed shares. A narrow
//! terminal drops the least important columns before it abbreviates a
//! more important one, and abbreviates in the middle (`prod-w…-3`) so the
//! distinguishing end stays. Only the visible rows are measured and cut.

use std::borrow::Cow;

use crate::views::{Cell, Column, Keep};

/// Blank columns between two table columns, as the table draws them.
pub(crate) const SPACING: usize = 2;

/// The widest a column asks to be before less important columns are
/// served; past this it only takes what is left over.
const MAX_NEED: usize = 48;

/// The least an abbreviation keeps from the start of a value.
const HEAD: usize = 3;

const ELLIPSIS: char = '…';

/// What a laid-out table shows: the columns (header, width) in their
/// order, the index of each in the rows' cells, and how many were left out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Laid {
    pub columns: Vec<(&'static str, u16)>,
    pub shown: Vec<usize>,
    pub hidden: usize,
}

impl Laid {
    /// The `j`th shown cell of `row`, cut to its width as its column's
    /// `Keep` says; only a cut cell is copied.
    pub(crate) fn text<'a>(&self, columns: &[Column], row: &'a [Cell], j: usize) -> Cow<'a, str> {
        let (Some(&i), Some((_, w))) = (self.shown.get(j), self.columns.get(j)) else {
            return Cow::Borrowed("");
        };
        let (Some(cell), Some(c)) = (row.get(i), columns.get(i)) else {
            return Cow::Borrowed("");
        };
        let w = usize::from(*w);
        // Bytes bound characters: most cells fit without counting.
        if cell.text.len() <= w || cell.text.chars().count() <= w {
            Cow::Borrowed(&cell.text)
        } else {
            Cow::Owned(abbreviate(&cell.text, w, c.keep))
        }
    }
}

/// Lays out `columns` in `width` terminal columns (borders included) for
/// the visible `rows`. `sort` is the column whose header carries the sort
/// arrow; `flex` the one that takes spare width first.
pub(crate) fn fit(
    columns: &[Column],
    rows: &[Vec<Cell>],
    width: u16,
    sort: usize,
    flex: usize,
) -> Laid {
    let avail = usize::from(width).saturating_sub(2);
    let m = measure(columns, rows, sort);
    let mut order: Vec<usize> = (0..columns.len()).collect();
    order.sort_by_key(|&i| (columns[i].priority, i));

    // A column shows when it fits at its floor with every more important
    // shown column at its need, so it never costs them a character; key
    // columns show regardless, abbreviated in the middle if need be.
    let mut chosen = Vec::new();
    let mut used = 0;
    for &i in &order {
        let gap = if chosen.is_empty() { 0 } else { SPACING };
        if columns[i].priority == 0 || used + gap + m[i].floor <= avail {
            chosen.push(i);
            used += gap + m[i].need;
        }
    }
    let mut widths: Vec<usize> = m.iter().map(|c| c.need).collect();
    let total = |widths: &[usize]| -> usize {
        chosen.iter().map(|&i| widths[i]).sum::<usize>() + SPACING * chosen.len().saturating_sub(1)
    };
    // Over by the last column let in, or by key columns too wide for the
    // terminal: narrow from the least important, to the floors, then to
    // the headers.
    let limits: [fn(&Measure) -> usize; 2] = [|c| c.floor, |c| c.header];
    for limit in limits {
        for &i in chosen.iter().rev() {
            let over = total(&widths).saturating_sub(avail);
            if over == 0 {
                break;
            }
            let spare = widths[i].saturating_sub(limit(&m[i]));
            widths[i] -= spare.min(over);
        }
    }
    // Spare width goes to cut values, the flexible column first.
    let mut spare = avail.saturating_sub(total(&widths));
    let by_need = std::iter::once(flex).chain(chosen.iter().copied().filter(|&i| i != flex));
    for i in by_need.filter(|i| chosen.contains(i)) {
        let more = m[i].full.saturating_sub(widths[i]).min(spare);
        widths[i] += more;
        spare -= more;
    }
    chosen.sort_unstable();
    laid(columns, chosen, &widths)
}

/// Every column at its full width from column `from` on, nothing cut: the
/// wide mode, which scrolls sideways instead.
pub(crate) fn wide(columns: &[Column], rows: &[Vec<Cell>], sort: usize, from: usize) -> Laid {
    let m = measure(columns, rows, sort);
    let from = from.min(columns.len().saturating_sub(1));
    let widths: Vec<usize> = m.iter().map(|c| c.full).collect();
    laid(columns, (from..columns.len()).collect(), &widths)
}

fn laid(columns: &[Column], shown: Vec<usize>, widths: &[usize]) -> Laid {
    Laid {
        columns: shown
            .iter()
            .map(|&i| {
                (
                    columns[i].name,
                    u16::try_from(widths[i]).unwrap_or(u16::MAX),
                )
            })
            .collect(),
        hidden: columns.len() - shown.len(),
        shown,
    }
}

/// A column's widths over the visible rows.
#[derive(Debug, Clone, Copy)]
struct Measure {
    /// The header, with room for the sort arrow where it is shown.
    header: usize,
    /// The narrowest that keeps every cell's protected part and the header.
    floor: usize,
    /// What it asks for: its widest cell, up to `MAX_NEED`.
    need: usize,
    /// Its widest cell, uncut.
    full: usize,
}

fn measure(columns: &[Column], rows: &[Vec<Cell>], sort: usize) -> Vec<Measure> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let header = c.name.chars().count() + usize::from(i == sort);
            let (mut floor, mut full) = (header, header);
            for cell in rows.iter().filter_map(|r| r.get(i)) {
                let len = cell.text.chars().count();
                full = full.max(len);
                floor = floor.max(least(c, &cell.text, len));
            }
            Measure {
                header,
                floor,
                need: full.min(MAX_NEED).max(floor),
                full,
            }
        })
        .collect()
}

/// The narrowest `text` (of `len` characters) can be in column `c`.
fn least(c: &Column, text: &str, len: usize) -> usize {
    let least = match c.keep {
        Keep::Whole => len,
        Keep::End | Keep::Image => tail_len(c.keep, text) + 1 + HEAD,
        Keep::Head => text.split(' ').next().map_or(0, |w| w.chars().count()) + 1,
        Keep::Text => usize::from(c.min_width),
    };
    least.min(len)
}

/// The characters at the end of `text` an abbreviation must keep: from
/// the last separator of a name, or an image's tag.
fn tail_len(keep: Keep, text: &str) -> usize {
    let at = match keep {
        Keep::Image => text.rfind(':'),
        _ => text.rfind(['-', '.', '/']),
    };
    at.map_or(text.chars().count(), |at| text[at..].chars().count())
}

/// The end of `text` an abbreviation to `width` keeps: an image's name
/// and tag when they fit, else its tag; a name's last part.
fn kept_tail(keep: Keep, text: &str, width: usize) -> usize {
    match keep {
        Keep::Image => text
            .rfind('/')
            .map(|at| text[at..].chars().count())
            .filter(|&t| t + 2 <= width)
            .unwrap_or_else(|| tail_len(keep, text)),
        Keep::End => tail_len(keep, text),
        Keep::Whole | Keep::Head | Keep::Text => 0,
    }
}

/// `text` in `width` characters, cut as its column's `Keep` says.
pub(crate) fn abbreviate(text: &str, width: usize, keep: Keep) -> String {
    let len = text.chars().count();
    if len <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let tail = kept_tail(keep, text, width);
    let mut out = String::with_capacity(width * 4);
    if tail == 0 {
        // Cut at the end.
        out.extend(text.chars().take(width - 1));
        out.push(ELLIPSIS);
    } else if tail + 2 <= width {
        out.extend(text.chars().take(width - 1 - tail));
        out.push(ELLIPSIS);
        out.extend(text.chars().skip(len - tail));
    } else {
        // Not even the tail fits: its end, which tells values apart.
        out.push(ELLIPSIS);
        out.extend(text.chars().skip(len + 1 - width));
    }
    out
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;

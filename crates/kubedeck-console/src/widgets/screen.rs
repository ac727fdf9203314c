//! The whole frame: header, breadcrumb, table, status line, and overlays.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Wrap};

use crate::help::{HelpLine, HelpVm};
use crate::theme::{Role, Theme};
use crate::view_model::{
    CompletionVm, DETAIL_MAX, DialogVm, LogVm, PanelVm, ScreenVm, TableVm, TextVm,
};
use crate::views::Cell;
use crate::widgets::layout;

pub fn draw(frame: &mut Frame, vm: &ScreenVm, theme: &Theme) {
    let [header, crumbs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_header(frame, header, vm, theme);
    match &vm.banner {
        // In the breadcrumb's place, so the table keeps its rows.
        Some(banner) => frame.render_widget(
            Paragraph::new(Span::styled(
                format!(" {banner} "),
                theme
                    .style(Role::Danger)
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            )),
            crumbs,
        ),
        None => draw_breadcrumb(frame, crumbs, vm, theme),
    }
    let body = match &vm.log {
        Some(log) => {
            let [main, pane] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(log.height)]).areas(body);
            draw_log(frame, pane, log, theme);
            main
        }
        None => body,
    };
    let body = match &vm.chart {
        Some(chart) if vm.panel.is_none() && vm.text.is_none() && vm.logview.is_none() => {
            let [main, pane] = Layout::vertical([
                Constraint::Min(3),
                Constraint::Length(crate::charts::chart::CHART_HEIGHT),
            ])
            .areas(body);
            crate::charts::chart::draw(frame, pane, chart, theme);
            main
        }
        _ => body,
    };
    if let Some(logview) = &vm.logview {
        crate::logview::widget::draw(frame, body, logview, theme);
    } else if let Some(panel) = &vm.panel {
        draw_panel(frame, body, panel, theme);
    } else if let Some(text) = &vm.text {
        draw_text(frame, body, text, theme);
    } else if let Some(detail) = &vm.detail {
        let height = (detail.len() + 2).min(DETAIL_MAX) as u16;
        let [table, pane] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(height)]).areas(body);
        draw_table(frame, table, &vm.table, theme);
        draw_detail(frame, pane, detail, vm.detail_title, theme);
    } else {
        draw_table(frame, body, &vm.table, theme);
    }
    frame.render_widget(
        Paragraph::new(Span::styled(vm.status.0.as_str(), theme.style(vm.status.1))),
        status,
    );
    if let Some(completion) = &vm.completion {
        draw_completion(frame, body, completion, theme);
    }
    if let Some(help) = &vm.help {
        draw_help(frame, body, help, theme);
    } else if !vm.warnings.is_empty() {
        draw_warnings(frame, body, &vm.warnings, theme);
    }
    if let Some(dialog) = &vm.dialog {
        draw_dialog(frame, body, dialog, theme);
    }
}

/// A bordered pane with its title in the border.
pub(crate) fn titled_block<'a>(title: &str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Role::Border))
        .title(Span::styled(format!(" {title} "), theme.style(Role::Title)))
}

/// Cells as styled text, one line per row of cells.
pub(crate) fn styled_lines<'a>(lines: &'a [Vec<Cell>], theme: &Theme) -> Vec<Line<'a>> {
    lines
        .iter()
        .map(|cells| {
            Line::from(
                cells
                    .iter()
                    .map(|c| Span::styled(c.text.as_str(), theme.style(c.role)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

fn draw_panel(frame: &mut Frame, area: Rect, panel: &PanelVm, theme: &Theme) {
    frame.render_widget(
        Paragraph::new(styled_lines(&panel.lines, theme)).block(titled_block(&panel.title, theme)),
        area,
    );
}

/// A dialog centred over the body, as wide as its longest line allows,
/// wrapping what does not fit.
fn draw_dialog(frame: &mut Frame, area: Rect, dialog: &DialogVm, theme: &Theme) {
    let widest = dialog
        .lines
        .iter()
        .map(|l| l.iter().map(|c| c.text.chars().count()).sum::<usize>())
        .chain(std::iter::once(dialog.title.chars().count() + 2))
        .max()
        .unwrap_or(0);
    let width = (widest as u16 + 4).clamp(40, area.width.saturating_sub(4).max(40));
    let inner = width.saturating_sub(2).max(1) as usize;
    // Wrapped height: each line takes ceil(len / inner) rows, at least one.
    let height: usize = dialog
        .lines
        .iter()
        .map(|l| {
            let len: usize = l.iter().map(|c| c.text.chars().count()).sum();
            len.div_ceil(inner).max(1)
        })
        .sum();
    let rect = overlay(area, width, height as u16 + 2);
    let border = if dialog.danger {
        Role::Danger
    } else {
        Role::DialogBorder
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(styled_lines(&dialog.lines, theme))
            .wrap(Wrap { trim: false })
            .style(theme.style(Role::Dialog))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.style(border))
                    .title(Span::styled(
                        format!(" {} ", dialog.title),
                        theme.style(Role::Title).add_modifier(Modifier::BOLD),
                    )),
            ),
        rect,
    );
}

fn draw_header(frame: &mut Frame, area: Rect, vm: &ScreenVm, theme: &Theme) {
    let mut spans = vec![
        Span::styled(" kubedeck ", theme.style(Role::Title)),
        Span::styled("ctx: ", theme.style(Role::Muted)),
        Span::styled(vm.context.as_str(), theme.style(Role::Text)),
        Span::styled("  ns: ", theme.style(Role::Muted)),
        Span::styled(vm.namespace.as_str(), theme.style(Role::Text)),
    ];
    if vm.readonly {
        spans.push(Span::styled("  [read-only]", theme.style(Role::Warning)));
    }
    if let Some((text, role)) = &vm.health {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(text.as_str(), theme.style(*role)));
    }
    if let Some((text, role)) = &vm.metrics {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(text.as_str(), theme.style(*role)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_breadcrumb(frame: &mut Frame, area: Rect, vm: &ScreenVm, theme: &Theme) {
    let mut spans = Vec::new();
    for (i, crumb) in vm.breadcrumb.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" › ", theme.style(Role::Muted)));
        }
        spans.push(Span::styled(
            format!("<{crumb}>"),
            theme.style(Role::Breadcrumb),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_table(frame: &mut Frame, area: Rect, table: &TableVm, theme: &Theme) {
    let area = match &table.summary {
        Some(cells) if area.height > 4 => {
            let [line, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
            frame.render_widget(
                Paragraph::new(Line::from(
                    cells
                        .iter()
                        .map(|c| Span::styled(c.text.as_str(), theme.style(c.role)))
                        .collect::<Vec<_>>(),
                )),
                line,
            );
            rest
        }
        _ => area,
    };
    // Laid out for the width drawn in; the view model holds the visible
    // rows only, so this measures a screenful of cells and copies the cut ones.
    let laid = match table.wide {
        Some(from) => layout::wide(&table.columns, &table.rows, table.sort_column, from),
        None => layout::fit(
            &table.columns,
            &table.rows,
            area.width,
            table.sort_column,
            table.flex,
        ),
    };
    let title = match (table.wide, laid.hidden, &table.wide_key) {
        (Some(_), _, _) => format!(
            "{} wide ←→ {}/{}",
            table.title,
            laid.hidden + 1,
            table.columns.len()
        ),
        (None, 0, _) => table.title.clone(),
        (None, n, Some(key)) => format!("{} +{n} more <{key}> wide", table.title),
        (None, n, None) => format!("{} +{n} more", table.title),
    };
    let block = titled_block(&title, theme);
    let sorted = table
        .columns
        .get(table.sort_column)
        .map(|c| c.name)
        .filter(|_| table.order_note.is_none());
    let header = Row::new(laid.columns.iter().map(|(name, _)| {
        if Some(*name) == sorted {
            format!("{name}{}", if table.descending { "↓" } else { "↑" })
        } else {
            name.to_string()
        }
    }))
    .style(theme.style(Role::Header));
    let rows = table.rows.iter().enumerate().map(|(i, cells)| {
        let row = Row::new(laid.shown.iter().enumerate().map(|(j, &c)| {
            let role = cells.get(c).map_or(Role::Text, |c| c.role);
            Span::styled(laid.text(&table.columns, cells, j), theme.style(role))
        }));
        if Some(i) == table.selected {
            row.style(theme.style(Role::Selection))
        } else {
            row
        }
    });
    let widths: Vec<Constraint> = laid
        .columns
        .iter()
        .map(|(_, w)| Constraint::Length(*w))
        .collect();
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block)
            .column_spacing(layout::SPACING as u16)
            .flex(ratatui::layout::Flex::Start),
        area,
    );
}

fn draw_detail(frame: &mut Frame, area: Rect, lines: &[Cell], title: &str, theme: &Theme) {
    let lines: Vec<Line> = lines
        .iter()
        .map(|c| Line::from(Span::styled(c.text.as_str(), theme.style(c.role))))
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(titled_block(title, theme)),
        area,
    );
}

fn draw_text(frame: &mut Frame, area: Rect, text: &TextVm, theme: &Theme) {
    let lines: Vec<Line> = text
        .lines
        .iter()
        .map(|l| Line::from(Span::styled(l.as_str(), theme.style(Role::Text))))
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(
            titled_block(&text.title, theme).title_bottom(
                Line::from(Span::styled(
                    format!(" {} ", text.position),
                    theme.style(Role::Muted),
                ))
                .right_aligned(),
            ),
        ),
        area,
    );
}

/// kubedeck's log, newest last, from tui-logger's buffer. The pane's
/// presence and title come from the view model; the lines are tui-logger's,
/// which keeps them.
fn draw_log(frame: &mut Frame, area: Rect, log: &LogVm, theme: &Theme) {
    let widget = tui_logger::TuiLoggerWidget::default()
        .block(titled_block(&log.title, theme))
        .style(theme.style(Role::Text))
        .style_error(theme.style(Role::Danger))
        .style_warn(theme.style(Role::Warning))
        .style_info(theme.style(Role::Text))
        .style_debug(theme.style(Role::Muted))
        .style_trace(theme.style(Role::Muted))
        .output_separator(' ')
        .output_timestamp(Some("%H:%M:%S".into()))
        .output_level(Some(tui_logger::TuiLoggerLevelOutput::Abbreviated))
        .output_target(false)
        .output_file(false)
        .output_line(false);
    frame.render_widget(widget, area);
}

fn overlay(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Tab's candidates in a box over the bottom left of the body, the chosen
/// one marked; as many as fit, then how many more.
fn draw_completion(frame: &mut Frame, area: Rect, c: &CompletionVm, theme: &Theme) {
    let fit = usize::from(area.height.saturating_sub(2)).clamp(1, 12);
    let mut lines: Vec<Line> = Vec::new();
    if c.loading {
        lines.push(Line::from(Span::styled(
            "listing…",
            theme.style(Role::Muted),
        )));
    } else if c.items.is_empty() {
        lines.push(Line::from(Span::styled(
            "no match",
            theme.style(Role::Muted),
        )));
    }
    // The window follows the chosen candidate.
    let first = c.selected.map_or(0, |i| (i + 1).saturating_sub(fit));
    for (i, item) in c.items.iter().enumerate().skip(first).take(fit) {
        let role = if Some(i) == c.selected {
            Role::Selection
        } else {
            Role::Text
        };
        lines.push(Line::from(Span::styled(item.as_str(), theme.style(role))));
    }
    let more = c.items.len().saturating_sub(first + fit);
    let title = if more > 0 {
        format!(" Tab: {} (+{more}) ", c.items.len())
    } else {
        " Tab ".to_string()
    };
    let widest = c.items.iter().map(|i| i.chars().count()).max().unwrap_or(8);
    let width = (widest.max(title.chars().count()) as u16 + 2).min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = Rect {
        x: area.x,
        y: area.y + area.height - height,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.style(Role::DialogBorder))
                .title(Span::styled(title, theme.style(Role::Title))),
        ),
        rect,
    );
}

fn draw_help(frame: &mut Frame, area: Rect, help: &HelpVm, theme: &Theme) {
    let rect = overlay(area, area.width.saturating_sub(4).min(100), area.height);
    let inner = usize::from(rect.width.saturating_sub(2)).max(20);
    // Each line wraps under its description, so nothing is cut at the edge;
    // `rows[i]` is where line i starts.
    let mut lines: Vec<Line> = Vec::new();
    let mut starts = Vec::with_capacity(help.lines.len());
    for l in &help.lines {
        starts.push(lines.len());
        match l {
            HelpLine::Heading(h) => lines.push(Line::from(Span::styled(
                format!("── {h}"),
                theme.style(Role::Title).add_modifier(Modifier::BOLD),
            ))),
            HelpLine::Entry(keys, what) => {
                // Keys right-aligned in a column; a command is too long for it.
                let key = if keys.starts_with(':') && keys.len() > 1 {
                    format!("{keys}  ")
                } else {
                    format!("{keys:>16}  ")
                };
                let indent = 18.min(inner / 2);
                let first = inner.saturating_sub(key.chars().count()).max(10);
                let mut rows = wrap(what, first, inner.saturating_sub(indent).max(10));
                let head = rows.remove(0);
                lines.push(Line::from(vec![
                    Span::styled(key, theme.style(Role::Key)),
                    Span::styled(head, theme.style(Role::Text)),
                ]));
                for r in rows {
                    lines.push(Line::from(Span::styled(
                        format!("{}{r}", " ".repeat(indent)),
                        theme.style(Role::Text),
                    )));
                }
            }
        }
    }
    let total = lines.len();
    let rect = overlay(rect, rect.width, (total as u16).saturating_add(2));
    let shown = usize::from(rect.height.saturating_sub(2));
    // The last page stays full.
    let top = starts
        .get(help.scroll)
        .copied()
        .unwrap_or(0)
        .min(total.saturating_sub(shown));
    let end = (top + shown).min(total);
    let title = if total > shown {
        format!(
            " Help: rows {}-{end} of {total}  PgDn PgUp scroll  Esc closes ",
            top + 1
        )
    } else {
        " Help (from the active keymap)  Esc closes ".to_string()
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines.split_off(top)).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.style(Role::DialogBorder))
                .title(Span::styled(
                    title,
                    theme.style(Role::Title).add_modifier(Modifier::BOLD),
                )),
        ),
        rect,
    );
}

/// Word-wraps `text`: the first row `first` wide, the others `rest`; a
/// word longer than a row is split.
fn wrap(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    let mut width = first.max(1);
    for mut word in text.split_whitespace() {
        loop {
            let (len, wlen) = (row.chars().count(), word.chars().count());
            if len == 0 && wlen > width {
                let cut: String = word.chars().take(width).collect();
                word = &word[cut.len()..];
                rows.push(cut);
                width = rest.max(1);
            } else if len == 0 {
                row.push_str(word);
                break;
            } else if len + 1 + wlen <= width {
                row.push(' ');
                row.push_str(word);
                break;
            } else {
                rows.push(std::mem::take(&mut row));
                width = rest.max(1);
            }
        }
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(row);
    }
    rows
}

fn draw_warnings(frame: &mut Frame, area: Rect, warnings: &[String], theme: &Theme) {
    let rect = overlay(
        area,
        area.width.saturating_sub(4),
        warnings.len() as u16 * 2 + 3,
    );
    frame.render_widget(Clear, rect);
    let mut lines: Vec<Line> = warnings
        .iter()
        .map(|w| Line::from(Span::styled(w.as_str(), theme.style(Role::Warning))))
        .collect();
    lines.push(Line::from(Span::styled(
        "Using the defaults instead. Esc to dismiss.",
        theme.style(Role::Muted),
    )));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.style(Role::DialogBorder))
                .title(" Problems in your files "),
        ),
        rect,
    );
}

#[cfg(test)]
mod banner_tests {
    use chrono::Duration;

    use crate::cluster::Kind;
    use crate::cluster::watch::WatchMsg;
    use crate::input::keymap::Keymap;
    use crate::state::AppState;
    use crate::test_support::{cluster, draw, now, resize, screen_text};
    use crate::update::{Msg, update};

    #[test]
    fn an_unanswering_api_shows_one_banner_over_the_last_data_until_the_watches_resume() {
        let cache = cluster();
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("kind-test", None, false);
        let send = |state: &mut AppState, msg: Msg, secs: i64| {
            update(state, msg, &cache, &keymap, now() + Duration::seconds(secs));
        };
        send(&mut state, resize(30), 0);
        for kind in Kind::ALL {
            send(&mut state, Msg::Watch(WatchMsg::Synced(kind)), 0);
        }
        send(&mut state, Msg::Key("1".parse().expect("a key")), 0);
        let before = screen_text(&draw(&state, &cache, &keymap, 120, 30));
        assert!(before.contains("web-7d4b9c8f6d-x2x4k"), "{before}");

        let down = |k| Msg::Watch(WatchMsg::Unreachable(k, "no answer".into()));
        send(&mut state, down(Kind::Pod), 5);
        send(&mut state, down(Kind::Node), 9);
        let text = screen_text(&draw(&state, &cache, &keymap, 120, 30));
        let since = (now() + Duration::seconds(5))
            .with_timezone(&chrono::Local)
            .format("%H:%M:%S");
        let banner = format!("API server not responding since {since}, retrying");
        assert_eq!(text.matches(&banner).count(), 1, "{text}");
        assert!(
            text.contains("web-7d4b9c8f6d-x2x4k"),
            "the last data stays: {text}"
        );
        assert!(
            text.contains(&format!("pods stale since {since}")),
            "the view's own kind is marked stale: {text}"
        );
        assert!(
            !text.contains("nodes stale"),
            "the pods view does not list nodes: {text}"
        );

        send(&mut state, Msg::Watch(WatchMsg::Synced(Kind::Pod)), 12);
        let text = screen_text(&draw(&state, &cache, &keymap, 120, 30));
        assert!(
            text.contains("API server not responding since"),
            "nodes still do not answer: {text}"
        );
        assert!(!text.contains("stale"), "pods are live again: {text}");
        send(&mut state, Msg::Watch(WatchMsg::Synced(Kind::Node)), 13);
        let text = screen_text(&draw(&state, &cache, &keymap, 120, 30));
        assert!(!text.contains("not responding"), "{text}");
        assert_eq!(text, before, "the screen is as it was before the outage");
    }
}

#[cfg(test)]
mod wrap_tests {
    use super::wrap;

    #[test]
    fn help_text_wraps_at_words_and_splits_only_a_word_too_long() {
        assert_eq!(wrap("sort by restarts", 40, 20), ["sort by restarts"]);
        assert_eq!(
            wrap("any resource the server serves, by plural", 20, 12),
            ["any resource the", "server", "serves, by", "plural"]
        );
        assert_eq!(wrap("abcdefghijkl xy", 5, 5), ["abcde", "fghij", "kl xy"]);
        assert_eq!(wrap("", 5, 5), [""]);
    }
}

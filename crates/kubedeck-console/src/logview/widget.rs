//! Draws the log view from its view model: a bordered pane of styled lines,
//! wrapped to the pane's width when asked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::view_model::LogViewVm;
use crate::theme::{Role, Theme};
use crate::views::Cell;
use crate::widgets::titled_block;

pub(crate) fn draw(frame: &mut Frame, area: Rect, vm: &LogViewVm, theme: &Theme) {
    let block = titled_block(&vm.title, theme).title_bottom(
        Line::from(Span::styled(
            format!(" {} ", vm.position),
            theme.style(Role::Muted),
        ))
        .right_aligned(),
    );
    let inner = block.inner(area);
    let height = inner.height as usize;
    let lines: Vec<Line> = if vm.wrap {
        let rows: Vec<Vec<Cell>> = vm
            .lines
            .iter()
            .flat_map(|cells| wrap(cells, inner.width.max(1) as usize))
            .collect();
        let shown = if vm.from_bottom {
            &rows[rows.len().saturating_sub(height)..]
        } else {
            &rows[..rows.len().min(height)]
        };
        shown.iter().map(|row| line(row, theme)).collect()
    } else {
        vm.lines.iter().map(|cells| line(cells, theme)).collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn line(cells: &[Cell], theme: &Theme) -> Line<'static> {
    Line::from(
        cells
            .iter()
            .map(|c| Span::styled(c.text.clone(), theme.style(c.role)))
            .collect::<Vec<_>>(),
    )
}

/// Splits a line's cells into rows of at most `width` characters, cutting
/// cells where a row ends so that each piece keeps its style.
pub(crate) fn wrap(cells: &[Cell], width: usize) -> Vec<Vec<Cell>> {
    let width = width.max(1);
    let mut rows: Vec<Vec<Cell>> = vec![Vec::new()];
    let mut used = 0;
    for cell in cells {
        let mut rest = cell.text.as_str();
        while !rest.is_empty() {
            if used == width {
                rows.push(Vec::new());
                used = 0;
            }
            let take = rest
                .char_indices()
                .nth(width - used)
                .map_or(rest.len(), |(i, _)| i);
            let (piece, tail) = rest.split_at(take);
            used += piece.chars().count();
            if let Some(row) = rows.last_mut() {
                row.push(Cell::new(piece, cell.role));
            }
            rest = tail;
        }
    }
    rows
}

//! The SVG picture and the HTML page around it.
//!
//! Layout: each table gets a layer, 0 for a table that references no other
//! and else one more than the deepest table it references (cycles and self
//! references are cut after as many rounds as there are tables); layers are
//! columns from left to right, tables in a column in name order, stacked
//! with a gap. A box's size comes from its text (a monospace font of known
//! width, wide characters counted double), so no two boxes can overlap and
//! the same schema always gives the same picture. Edges run from the first
//! referencing column's row to the first referenced column's row.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{ColumnView, EdgeView, Mark, TableView, View};

const FONT_PX: f64 = 12.0;
/// Width of one character of a 12 px monospace font, with a margin (the
/// common monospace fonts are 0.6 em).
const CHAR_W: f64 = 7.6;
const HEAD_H: f64 = 26.0;
const ROW_H: f64 = 20.0;
const PAD: f64 = 8.0;
const GAP_X: f64 = 90.0;
const GAP_Y: f64 = 36.0;
const MARGIN: f64 = 24.0;
/// Room right of the last column for edges between boxes of one column.
const LOOP_W: f64 = 50.0;
const MIN_W: f64 = 120.0;

/// Escapes text for XML content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 has no other control characters.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Estimated width of `s` in the page's monospace font.
fn text_w(s: &str) -> f64 {
    s.chars()
        .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
        .sum::<f64>()
        * CHAR_W
}

fn column_type(c: &ColumnView) -> String {
    match &c.was {
        Some(was) => format!("{} (was {was})", c.ty),
        None => c.ty.clone(),
    }
}

/// A laid-out table box.
#[derive(Debug, Clone)]
struct Placed {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    /// x offsets of the type and markers cells inside the box.
    type_x: f64,
    marks_x: f64,
}

fn layers(view: &View) -> Vec<usize> {
    let index: BTreeMap<&str, usize> = view
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    let n = view.tables.len();
    let mut layer = vec![0usize; n];
    for _ in 0..n {
        let mut moved = false;
        for (i, t) in view.tables.iter().enumerate() {
            for e in &t.foreign_keys {
                if let Some(&p) = index.get(e.ref_table.as_str()) {
                    if p != i && layer[i] <= layer[p] && layer[p] < n {
                        layer[i] = layer[p] + 1;
                        moved = true;
                    }
                }
            }
        }
        if !moved {
            break;
        }
    }
    // Number the layers that are used 0, 1, 2, ...
    let mut used: Vec<usize> = layer.clone();
    used.sort_unstable();
    used.dedup();
    layer
        .iter()
        .map(|l| used.binary_search(l).unwrap_or(0))
        .collect()
}

fn size(t: &TableView) -> (f64, f64, f64, f64) {
    let name_w = t
        .columns
        .iter()
        .map(|c| text_w(&c.name))
        .fold(0.0, f64::max);
    let type_w = t
        .columns
        .iter()
        .map(|c| text_w(&column_type(c)))
        .fold(0.0, f64::max);
    let marks_w = t
        .columns
        .iter()
        .map(|c| text_w(&c.markers()))
        .fold(0.0, f64::max);
    let type_x = PAD + name_w + 2.0 * PAD;
    let marks_x = type_x + type_w + 2.0 * PAD;
    let rows_w = marks_x + marks_w + PAD;
    // The header is bold: a little wider.
    let head_w = 2.0 * PAD + text_w(&t.name) * 1.1;
    let w = rows_w.max(head_w).max(MIN_W).ceil();
    let h = HEAD_H + ROW_H * t.columns.len().max(1) as f64;
    (w, h, type_x, marks_x)
}

/// Boxes for every table, and the picture's width and height.
fn layout(view: &View) -> (Vec<Placed>, f64, f64) {
    let layer = layers(view);
    let columns = layer.iter().copied().max().map_or(0, |m| m + 1);
    let sizes: Vec<_> = view.tables.iter().map(size).collect();
    let mut col_w = vec![0.0f64; columns];
    for (i, s) in sizes.iter().enumerate() {
        col_w[layer[i]] = col_w[layer[i]].max(s.0);
    }
    let mut col_x = vec![MARGIN; columns];
    for c in 1..columns {
        col_x[c] = col_x[c - 1] + col_w[c - 1] + GAP_X;
    }
    let mut next_y = vec![MARGIN; columns];
    let mut placed = Vec::with_capacity(view.tables.len());
    for (i, &(w, h, type_x, marks_x)) in sizes.iter().enumerate() {
        let c = layer[i];
        placed.push(Placed {
            x: col_x[c],
            y: next_y[c],
            w,
            h,
            type_x,
            marks_x,
        });
        next_y[c] += h + GAP_Y;
    }
    let width = match columns {
        0 => 2.0 * MARGIN + MIN_W,
        n => col_x[n - 1] + col_w[n - 1] + LOOP_W + MARGIN,
    };
    let height = next_y.iter().copied().fold(MARGIN, f64::max) - GAP_Y + MARGIN;
    (
        placed,
        width.ceil(),
        height.max(2.0 * MARGIN + HEAD_H).ceil(),
    )
}

fn class_attr(base: &str, mark: Mark) -> String {
    match mark.class() {
        Some(m) => format!("{base} {m}"),
        None => base.to_string(),
    }
}

/// The y of the middle of a column's row, or of the header.
fn row_y(t: &TableView, p: &Placed, column: Option<&String>) -> f64 {
    match column.and_then(|n| t.columns.iter().position(|c| c.name == *n)) {
        Some(i) => p.y + HEAD_H + ROW_H * (i as f64 + 0.5),
        None => p.y + HEAD_H / 2.0,
    }
}

fn edge(out: &mut String, view: &View, placed: &[Placed], from: usize, e: &EdgeView) {
    let Some(to) = view.tables.iter().position(|t| t.name == e.ref_table) else {
        return;
    };
    let (c, p) = (&placed[from], &placed[to]);
    let y1 = row_y(&view.tables[from], c, e.columns.first());
    let y2 = row_y(&view.tables[to], p, e.ref_columns.first());
    let d = if c.x > p.x + p.w {
        let (x1, x2) = (c.x, p.x + p.w);
        let mid = (x1 + x2) / 2.0;
        format!("M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}")
    } else if c.x + c.w < p.x {
        let (x1, x2) = (c.x + c.w, p.x);
        let mid = (x1 + x2) / 2.0;
        format!("M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}")
    } else {
        // Same column (or the table itself): a loop on the right.
        let (x1, x2) = (c.x + c.w, p.x + p.w);
        let out_x = x1.max(x2) + LOOP_W * 0.8;
        format!("M {x1} {y1} C {out_x} {y1}, {out_x} {y2}, {x2} {y2}")
    };
    let _ = writeln!(
        out,
        r#"<path class="{}" data-fk="{}" d="{d}" marker-end="url(#arrow)"><title>{}</title></path>"#,
        class_attr("fk", e.mark),
        esc(&e.name),
        esc(&format!(
            "{}: {}({}) -> {}({})",
            e.name,
            view.tables[from].name,
            e.columns.join(", "),
            e.ref_table,
            e.ref_columns.join(", ")
        )),
    );
}

fn table_box(out: &mut String, i: usize, t: &TableView, p: &Placed) {
    let _ = writeln!(
        out,
        r#"<g class="{}" id="table-{i}" data-table="{}" transform="translate({} {})">"#,
        class_attr("table", t.mark),
        esc(&t.name),
        p.x,
        p.y
    );
    let _ = writeln!(
        out,
        r#"<rect class="box" width="{}" height="{}" rx="4"/>"#,
        p.w, p.h
    );
    let _ = writeln!(
        out,
        r#"<rect class="head" width="{}" height="{HEAD_H}" rx="4"/>"#,
        p.w
    );
    let _ = writeln!(
        out,
        r#"<text class="name" x="{PAD}" y="{}">{}</text>"#,
        HEAD_H - 8.0,
        esc(&t.name)
    );
    for (r, c) in t.columns.iter().enumerate() {
        let y = HEAD_H + ROW_H * r as f64;
        let base_y = y + ROW_H - 6.0;
        let _ = writeln!(
            out,
            r#"<g class="{}" data-column="{}">"#,
            class_attr("column", c.mark),
            esc(&c.name)
        );
        let _ = writeln!(
            out,
            r#"<rect class="row" x="1" y="{y}" width="{}" height="{}"/>"#,
            p.w - 2.0,
            ROW_H - 0.5
        );
        let _ = writeln!(
            out,
            r#"<text class="cname" x="{PAD}" y="{base_y}">{}</text>"#,
            esc(&c.name)
        );
        let _ = writeln!(
            out,
            r#"<text class="ctype" x="{}" y="{base_y}">{}</text>"#,
            p.type_x,
            esc(&column_type(c))
        );
        let _ = writeln!(
            out,
            r#"<text class="marks" x="{}" y="{base_y}">{}</text>"#,
            p.marks_x,
            esc(&c.markers())
        );
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");
}

/// The `<svg>` element; `standalone` adds the namespace an SVG file needs
/// (in HTML the parser supplies it).
fn svg_element(view: &View, standalone: bool) -> String {
    let (placed, width, height) = layout(view);
    let mut out = String::new();
    let ns = if standalone {
        r#" xmlns="http://www.w3.org/2000/svg""#
    } else {
        ""
    };
    let _ = writeln!(
        out,
        r#"<svg{ns} class="schema" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="{FONT_PX}">"#
    );
    if standalone {
        let _ = writeln!(out, "<style>{CSS}</style>");
    }
    out.push_str(concat!(
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">"#,
        r#"<path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>"#,
        "\n"
    ));
    for (i, t) in view.tables.iter().enumerate() {
        table_box(&mut out, i, t, &placed[i]);
    }
    for (i, t) in view.tables.iter().enumerate() {
        for e in &t.foreign_keys {
            edge(&mut out, view, &placed, i, e);
        }
    }
    out.push_str("</svg>\n");
    out
}

const CSS: &str = "\
.table .box{fill:#fff;stroke:#445;stroke-width:1.2}\
.table .head{fill:#dde4f0;stroke:#445;stroke-width:1.2}\
.table .name{font-weight:bold;fill:#112}\
.column .row{fill:transparent}\
.column text{fill:#223}\
.column .marks{fill:#667}\
.fk{fill:none;stroke:#557;stroke-width:1.3}\
.arrowhead{fill:#557}\
.added .box,.added .head,.column.added .row{fill:#dff5df}\
.added text{fill:#1a6b1a}\
.dropped .box,.dropped .head,.column.dropped .row{fill:#fbe1e1}\
.dropped text{fill:#a11;text-decoration:line-through}\
.changed .head,.column.changed .row{fill:#fdf0cf}\
.column.changed text{fill:#7a5300}\
.fk.added{stroke:#1a6b1a}\
.fk.dropped{stroke:#a11;stroke-dasharray:5 3}\
.fk.changed{stroke:#b07800}\
";

/// A standalone SVG document.
pub(super) fn document(view: &View) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        svg_element(view, true)
    )
}

/// After layout, checks every table box: a non-zero size, inside the
/// picture, its text inside the box, no two boxes overlapping. Writes
/// `data-check` (`ok N tables` or `problems: ...`) and `data-shown` (the
/// names of the boxes that passed, one per line) on `<body>`.
const CHECK_SCRIPT: &str = r#"(function () {
  var svg = document.querySelector('svg.schema');
  var problems = [];
  var shown = [];
  var area = svg.getBoundingClientRect();
  var boxes = Array.prototype.slice.call(svg.querySelectorAll('g.table[data-table]'));
  var rects = boxes.map(function (g) {
    var name = g.getAttribute('data-table');
    var r = g.querySelector('rect.box').getBoundingClientRect();
    var ok = true;
    if (!(r.width > 0 && r.height > 0)) { problems.push('empty box: ' + name); ok = false; }
    if (r.left < area.left - 0.5 || r.top < area.top - 0.5 || r.right > area.right + 0.5 || r.bottom > area.bottom + 0.5) {
      problems.push('outside the picture: ' + name); ok = false;
    }
    Array.prototype.forEach.call(g.querySelectorAll('text'), function (t) {
      var b = t.getBoundingClientRect();
      if (b.width > 0 && (b.left < r.left - 0.5 || b.right > r.right + 0.5 || b.top < r.top - 0.5 || b.bottom > r.bottom + 0.5)) {
        problems.push('text outside its box: ' + name + ': ' + t.textContent); ok = false;
      }
    });
    if (ok) { shown.push(name); }
    return { name: name, r: r };
  });
  for (var i = 0; i < rects.length; i++) {
    for (var j = i + 1; j < rects.length; j++) {
      var a = rects[i].r, b = rects[j].r;
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
        problems.push('overlap: ' + rects[i].name + ' and ' + rects[j].name);
      }
    }
  }
  document.body.setAttribute('data-check', problems.length ? 'problems: ' + problems.join('; ') : 'ok ' + boxes.length + ' tables');
  document.body.setAttribute('data-shown', shown.join('\n'));
})();"#;

const PAGE_CSS: &str = "\
body{font-family:sans-serif;margin:16px;color:#112;background:#fafbfc}\
h1{font-size:18px;font-weight:600}\
ul.steps{font-family:monospace;font-size:12px}\
.legend span{display:inline-block;padding:2px 8px;margin-right:8px;border:1px solid #aab;font-size:12px}\
.legend .added{background:#dff5df;color:#1a6b1a}\
.legend .dropped{background:#fbe1e1;color:#a11;text-decoration:line-through}\
.legend .changed{background:#fdf0cf;color:#7a5300}\
";

/// The HTML page: title, for a change the legend and the steps, the inline
/// SVG, the CSS and the check script; a Content-Security-Policy that lets
/// nothing be loaded from anywhere.
pub(super) fn page(view: &View, title: &str) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(title));
    let _ = writeln!(out, "<style>{PAGE_CSS}{CSS}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<h1>{}</h1>", esc(title));
    if view.is_change {
        out.push_str("<p class=\"legend\"><span class=\"added\">added</span><span class=\"dropped\">dropped</span><span class=\"changed\">changed</span></p>\n");
        if !view.steps.is_empty() {
            out.push_str("<ul class=\"steps\">\n");
            for s in &view.steps {
                let _ = writeln!(out, "<li>{}</li>", esc(s));
            }
            out.push_str("</ul>\n");
        }
    }
    if view.tables.is_empty() {
        out.push_str("<p>No tables.</p>\n");
    }
    out.push_str(&svg_element(view, false));
    let _ = writeln!(out, "<script>{CHECK_SCRIPT}</script>\n</body>\n</html>");
    out
}

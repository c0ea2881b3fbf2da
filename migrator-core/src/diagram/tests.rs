use std::path::Path;

use super::mermaid::word;
use super::*;
use crate::migration::MigrationSet;
use crate::schema::{ColumnType, ForeignKey, RefAction, Unique};

fn example() -> MigrationSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/todo/migrations");
    MigrationSet::load(&dir).expect("the example's migrations load")
}

fn col(name: &str, ty: ColumnType, nullable: bool) -> Column {
    Column {
        nullable,
        ..Column::new(name, ty)
    }
}

/// Names that need quoting or escaping everywhere.
fn hostile() -> Schema {
    let mut parent = Table::new("order items");
    parent.columns = vec![
        col("id", ColumnType::BigInt, false),
        col(
            "a--b/*c*/",
            ColumnType::Custom("NUMERIC(12, 2)".into()),
            true,
        ),
        col(
            "<script>&\"'",
            ColumnType::Custom("double precision".into()),
            false,
        ),
    ];
    parent.primary_key = vec!["id".into()];
    let mut child = Table::new("Select$Table");
    child.columns = vec![
        col("id", ColumnType::Integer, false),
        col("item_id", ColumnType::BigInt, false),
        col("self_id", ColumnType::Integer, true),
    ];
    child.primary_key = vec!["id".into()];
    child.uniques = vec![Unique {
        name: "uq_item".into(),
        columns: vec!["item_id".into()],
        nulls_not_distinct: false,
    }];
    child.foreign_keys = vec![
        ForeignKey {
            name: "fk \"odd\" <name>".into(),
            columns: vec!["item_id".into()],
            ref_table: "order items".into(),
            ref_columns: vec!["id".into()],
            on_delete: RefAction::Cascade,
            on_update: RefAction::NoAction,
        },
        ForeignKey {
            name: "fk_self".into(),
            columns: vec!["self_id".into()],
            ref_table: "Select$Table".into(),
            ref_columns: vec!["id".into()],
            on_delete: RefAction::NoAction,
            on_update: RefAction::NoAction,
        },
    ];
    let mut s = Schema::new();
    s.insert(parent);
    s.insert(child);
    s.normalize();
    s
}

#[test]
fn mermaid_of_the_example_has_every_table_column_and_relationship() {
    let set = example();
    let text = mermaid(set.last_state());
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert_eq!(lines[0], "erDiagram", "{text}");
    for t in set.last_state().tables.values() {
        assert!(lines.contains(&format!("{} {{", t.name).as_str()), "{text}");
    }
    for line in [
        "bigint id PK",
        "varchar(100) name UK",
        "bigint user_id FK",
        "varchar(200) title",
        "bigint author_id FK \"nullable\"",
        "timestamp created_at",
        "messages }o--o| users : \"fk_messages_author_id\"",
        "messages }o--|| conversations : \"fk_messages_conversation_id\"",
        "tasks }o--|| users : \"fk_tasks_user_id\"",
    ] {
        assert!(lines.contains(&line), "missing `{line}` in\n{text}");
    }
    let relationships = lines.iter().filter(|l| l.contains("--")).count();
    assert_eq!(relationships, 3, "{text}");
    // Entities in name order, relationships after them.
    let pos = |s: &str| text.find(s).unwrap();
    assert!(pos("conversations {") < pos("messages {"));
    assert!(pos("tasks {") < pos("users {"));
    assert!(pos("users {") < pos("messages }o"));
}

#[test]
fn mermaid_words_keep_to_the_grammar() {
    assert_eq!(word("varchar(200)"), "varchar(200)");
    assert_eq!(word("NUMERIC(12, 2)"), "NUMERIC(12-2)");
    assert_eq!(word("double precision"), "double_precision");
    assert_eq!(word("a--b/*c*/"), "a--b__c");
    assert_eq!(word("2fa"), "_2fa");
    assert_eq!(word("<script>&\"'"), "_script");
    let text = mermaid(&hostile());
    let attr = |c: char| c.is_ascii_alphanumeric() || "_-()[]".contains(c);
    let mut in_entity = false;
    for line in text.lines().skip(1) {
        let line = line.trim();
        if line.ends_with('{') {
            in_entity = true;
            // Quoted because the names are not words.
            assert!(line.starts_with('"'), "{line}");
            continue;
        }
        if line == "}" {
            in_entity = false;
            continue;
        }
        if in_entity {
            let mut parts = line.splitn(3, ' ');
            let ty = parts.next().unwrap();
            let name = parts.next().unwrap();
            assert!(ty.chars().all(attr) && name.chars().all(attr), "{line}");
            // A quoted comment holds no inner double quote.
            if let Some(i) = line.find('"') {
                assert!(line.ends_with('"'), "{line}");
                assert!(!line[i + 1..line.len() - 1].contains('"'), "{line}");
            }
        }
    }
    assert!(
        text.contains(
            "\"Select$Table\" |o--|| \"order items\" : \"fk 'odd' \u{2039}name\u{203a}\""
        ),
        "{text}"
    );
    // Nothing Mermaid would read as HTML, Markdown emphasis or an entity.
    for q in text.split('"').skip(1).step_by(2) {
        assert!(!q.contains(['<', '>', '*', '#', '&', '`']), "{q}");
    }
    assert!(
        text.contains("\"Select$Table\" }o--o| \"Select$Table\" : \"fk_self\""),
        "{text}"
    );
    assert!(
        text.contains(
            "NUMERIC(12-2) a--b__c \"name: a--b/\u{2217}c\u{2217}/; type: NUMERIC(12, 2); nullable\""
        ),
        "{text}"
    );
}

#[test]
fn svg_escapes_every_name_and_type() {
    let s = hostile();
    for out in [svg(&s), html(&s, "<b>&title")] {
        assert!(!out.contains("<script>&"), "{out}");
        assert!(out.contains("data-table=\"order items\""), "{out}");
        assert!(out.contains("data-table=\"Select$Table\""), "{out}");
        assert!(out.contains("&lt;script&gt;&amp;&quot;&#39;"), "{out}");
        assert!(
            out.contains("data-fk=\"fk &quot;odd&quot; &lt;name&gt;\""),
            "{out}"
        );
        assert!(out.contains(">NUMERIC(12, 2)</text>"), "{out}");
    }
    let page = html(&s, "<b>&title");
    assert!(
        page.contains("<title>&lt;b&gt;&amp;title</title>"),
        "{page}"
    );
    // One script (the check), and it is the page's own.
    assert_eq!(page.matches("<script>").count(), 1);
}

#[test]
fn the_page_loads_nothing_from_outside() {
    let page = html(example().last_state(), "todo");
    assert!(!page.contains("://"), "{page}");
    assert!(!page.contains(" src="), "{page}");
    assert!(!page.contains("href="), "{page}");
    assert!(!page.contains("@import"), "{page}");
    assert!(page.contains("default-src 'none'"), "{page}");
    // The standalone SVG declares its namespace and nothing else.
    let doc = svg(example().last_state());
    assert_eq!(doc.matches("://").count(), 1, "{doc}");
    assert!(doc.contains("xmlns=\"http://www.w3.org/2000/svg\""));
}

#[test]
fn every_table_and_foreign_key_is_drawn_once() {
    let set = example();
    let schema = set.last_state();
    let out = svg(schema);
    for t in schema.tables.values() {
        assert_eq!(
            out.matches(&format!("data-table=\"{}\"", t.name)).count(),
            1,
            "{}",
            t.name
        );
        for c in &t.columns {
            assert!(out.contains(&format!("data-column=\"{}\"", c.name)));
        }
        for f in &t.foreign_keys {
            assert_eq!(out.matches(&format!("data-fk=\"{}\"", f.name)).count(), 1);
        }
    }
    assert_eq!(out.matches("<g class=\"table\"").count(), 4);
    assert_eq!(out.matches("<path class=\"fk\"").count(), 3);
}

#[test]
fn rendering_is_deterministic() {
    let set = example();
    let a = set.last_state().clone();
    // The same schema built in another order.
    let mut b = Schema::new();
    for t in a.tables.values().rev() {
        b.insert(t.clone());
    }
    assert_eq!(mermaid(&a), mermaid(&b));
    assert_eq!(svg(&a), svg(&b));
    assert_eq!(html(&a, "t"), html(&b, "t"));
}

/// The boxes' rectangles, parsed back from the SVG.
fn boxes(svg: &str) -> Vec<(String, f64, f64, f64, f64)> {
    let mut out = Vec::new();
    for part in svg.split("data-table=\"").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        let tr = &part[part.find("translate(").unwrap() + 10..];
        let tr = &tr[..tr.find(')').unwrap()];
        let (x, y) = tr.split_once(' ').unwrap();
        let rect = &part[part.find("<rect class=\"box\" width=\"").unwrap() + 25..];
        let w = &rect[..rect.find('"').unwrap()];
        let rect = &rect[rect.find("height=\"").unwrap() + 8..];
        let h = &rect[..rect.find('"').unwrap()];
        out.push((
            name.to_string(),
            x.parse().unwrap(),
            y.parse().unwrap(),
            w.parse().unwrap(),
            h.parse().unwrap(),
        ));
    }
    out
}

#[test]
fn boxes_never_overlap_and_parents_stand_left_of_children() {
    // Many tables, a chain of references and a cycle.
    let mut s = Schema::new();
    for i in 0..12 {
        let mut t = Table::new(format!("t{i:02}_{}", "x".repeat(i * 3)));
        t.columns = vec![
            col("id", ColumnType::BigInt, false),
            col("parent_id", ColumnType::BigInt, true),
        ];
        t.primary_key = vec!["id".into()];
        if i > 0 {
            let parent = if i == 5 { 7 } else { i - 1 };
            t.foreign_keys = vec![ForeignKey {
                name: format!("fk_{i}"),
                columns: vec!["parent_id".into()],
                ref_table: format!("t{parent:02}_{}", "x".repeat(parent * 3)),
                ref_columns: vec!["id".into()],
                on_delete: RefAction::NoAction,
                on_update: RefAction::NoAction,
            }];
        }
        s.insert(t);
    }
    let out = svg(&s);
    let b = boxes(&out);
    assert_eq!(b.len(), 12);
    for (i, p) in b.iter().enumerate() {
        assert!(p.3 > 0.0 && p.4 > 0.0);
        for q in &b[i + 1..] {
            let apart =
                p.1 + p.3 <= q.1 || q.1 + q.3 <= p.1 || p.2 + p.4 <= q.2 || q.2 + q.4 <= p.2;
            assert!(apart, "{p:?} and {q:?} overlap");
        }
    }
    let x = |name: &str| b.iter().find(|p| p.0.starts_with(name)).unwrap().1;
    assert!(x("t00") < x("t01") && x("t01") < x("t02"));
}

#[test]
fn the_change_view_marks_what_a_migration_did() {
    let set = example();
    // 0004 adds tasks.priority.
    let v = View::change(&set.state(3), &set.state(4), vec!["add column".into()]);
    let tasks = v.tables.iter().find(|t| t.name == "tasks").unwrap();
    assert_eq!(tasks.mark, Mark::Changed);
    let priority = tasks.columns.iter().find(|c| c.name == "priority").unwrap();
    assert_eq!(priority.mark, Mark::Added);
    assert!(tasks
        .columns
        .iter()
        .filter(|c| c.name != "priority")
        .all(|c| c.mark == Mark::Same));
    let users = v.tables.iter().find(|t| t.name == "users").unwrap();
    assert_eq!(users.mark, Mark::Same);

    // 0006 drops tasks.is_high_priority and keeps it in the picture.
    let v = View::change(&set.state(5), &set.state(6), Vec::new());
    let tasks = v.tables.iter().find(|t| t.name == "tasks").unwrap();
    let dropped = tasks.columns.last().unwrap();
    assert_eq!(
        (dropped.name.as_str(), dropped.mark),
        ("is_high_priority", Mark::Dropped)
    );
    let html = v.html("0006");
    assert!(
        html.contains("<g class=\"column dropped\" data-column=\"is_high_priority\">"),
        "{html}"
    );
    assert!(html.contains("class=\"legend\""));
    let m = v.mermaid();
    assert!(
        m.contains("%% dropped: column tasks.is_high_priority"),
        "{m}"
    );
    assert!(m.contains("boolean is_high_priority \"dropped\""), "{m}");

    // 0003 creates two tables and their foreign keys.
    let v = View::change(&set.state(2), &set.state(3), Vec::new());
    let marks: Vec<(&str, Mark)> = v.tables.iter().map(|t| (t.name.as_str(), t.mark)).collect();
    assert_eq!(
        marks,
        [
            ("conversations", Mark::Added),
            ("messages", Mark::Added),
            ("tasks", Mark::Same),
            ("users", Mark::Same)
        ]
    );
    let svg = v.svg();
    assert!(
        svg.contains("<g class=\"table added\" id=\"table-0\" data-table=\"conversations\""),
        "{svg}"
    );
    assert!(
        svg.contains("<path class=\"fk added\" data-fk=\"fk_messages_author_id\""),
        "{svg}"
    );
    assert!(v.mermaid().contains("%% added: table messages"));

    // Undoing 0003 drops them: struck in red.
    let v = View::change(&set.state(3), &set.state(2), Vec::new());
    assert!(v
        .svg()
        .contains("<g class=\"table dropped\" id=\"table-1\" data-table=\"messages\""));
    assert!(v
        .html("x")
        .contains(".dropped text{fill:#a11;text-decoration:line-through}"));
}

#[test]
fn a_changed_column_says_what_it_was() {
    let mut before = Schema::new();
    let mut t = Table::new("t");
    t.columns = vec![col("a", ColumnType::Varchar(20), true)];
    before.insert(t.clone());
    t.columns = vec![col("a", ColumnType::Text, false)];
    let mut after = Schema::new();
    after.insert(t);
    let v = View::change(&before, &after, Vec::new());
    let c = &v.tables[0].columns[0];
    assert_eq!(c.mark, Mark::Changed);
    assert_eq!(c.was.as_deref(), Some("varchar(20)"));
    assert!(v.svg().contains(">text (was varchar(20))</text>"));
    assert!(
        v.mermaid().contains("text a \"changed, was varchar(20)\""),
        "{}",
        v.mermaid()
    );
    // The same schema twice: nothing marked.
    let v = View::change(&after, &after, Vec::new());
    assert!(v.tables.iter().all(|t| t.mark == Mark::Same));
    assert!(!v.svg().contains("changed\""));
}

#[test]
fn an_empty_schema_is_a_valid_picture() {
    let s = Schema::new();
    assert_eq!(mermaid(&s), "erDiagram\n");
    let page = html(&s, "empty");
    assert!(page.contains("No tables."));
    assert!(svg(&s).contains("<svg"));
}

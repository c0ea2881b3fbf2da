//! `migrator diagram` as a user runs it, on the example app's migrations:
//! Mermaid text with every table and relationship, `--at` and `--change`,
//! refusals (exit 2) naming the version, and the HTML page opened in a real
//! headless Chromium, whose inline check must find every table's box laid
//! out, non-empty, inside the picture and overlapping no other. Without
//! Chromium the browser tests skip loudly, and fail under `CI=true`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use migrator_core::migration::MigrationSet;

fn migrator(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrator"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("migrator runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn text(o: &Output) -> String {
    format!("{}{}", stdout(o), String::from_utf8_lossy(&o.stderr))
}

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/todo")
}

/// The example app's migrations in a scratch project.
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let dst = dir.path().join("migrations");
    std::fs::create_dir_all(&dst).expect("mkdir");
    for entry in std::fs::read_dir(example_dir().join("migrations")).expect("example migrations") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dst.join(entry.file_name())).expect("copy");
    }
    dir
}

fn example_set() -> MigrationSet {
    MigrationSet::load(&example_dir().join("migrations")).expect("example loads")
}

fn tables_at(set: &MigrationSet, i: usize) -> BTreeSet<String> {
    set.state(i).tables.keys().cloned().collect()
}

#[test]
fn mermaid_of_the_snapshot_has_every_table_and_relationship() {
    let dir = example_copy();
    let o = migrator(dir.path(), &["diagram"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines.first(), Some(&"erDiagram"), "{out}");
    let set = example_set();
    for t in set.last_state().tables.values() {
        assert!(lines.contains(&format!("{} {{", t.name).as_str()), "{out}");
        for f in &t.foreign_keys {
            let rel = lines
                .iter()
                .find(|l| l.ends_with(&format!(": \"{}\"", f.name)))
                .unwrap_or_else(|| panic!("no relationship for {}:\n{out}", f.name));
            assert!(
                rel.starts_with(&format!("{} ", t.name))
                    && rel.contains(&format!("| {} :", f.ref_table)),
                "{rel}"
            );
        }
    }
    assert!(lines.contains(&"messages }o--o| users : \"fk_messages_author_id\""));
    assert!(lines.contains(&"messages }o--|| conversations : \"fk_messages_conversation_id\""));
    assert!(lines.contains(&"tasks }o--|| users : \"fk_tasks_user_id\""));
    assert_eq!(
        lines.iter().filter(|l| l.contains("--")).count(),
        3,
        "{out}"
    );
    // The same text twice.
    assert_eq!(stdout(&migrator(dir.path(), &["diagram"])), out);
}

#[test]
fn at_and_change_pick_a_migration() {
    let dir = example_copy();
    // After 0002 there are users and tasks, and tasks still has its flag.
    let o = migrator(dir.path(), &["diagram", "--at", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    assert!(out.contains("users {") && out.contains("tasks {"), "{out}");
    assert!(!out.contains("messages"), "{out}");
    assert!(out.contains("boolean is_high_priority"), "{out}");

    let o = migrator(dir.path(), &["diagram", "--change", "6"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    assert!(
        out.contains("%% dropped: column tasks.is_high_priority"),
        "{out}"
    );
    assert!(out.contains("%% step: "), "{out}");

    let o = migrator(dir.path(), &["diagram", "--change", "3", "--format", "svg"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    assert!(out.starts_with("<?xml"), "{out}");
    assert!(
        out.contains("<g class=\"table added\" id=\"table-0\" data-table=\"conversations\""),
        "{out}"
    );
    assert!(
        out.contains("<g class=\"table\" id=\"table-3\" data-table=\"users\""),
        "{out}"
    );
}

#[test]
fn a_version_that_does_not_exist_is_a_usage_error() {
    let dir = example_copy();
    for args in [
        ["diagram", "--at", "7"],
        ["diagram", "--change", "0"],
        ["diagram", "--at", "0"],
    ] {
        let out_file = dir.path().join("out.html");
        let mut args = args.to_vec();
        args.extend(["-o", out_file.to_str().unwrap()]);
        let o = migrator(dir.path(), &args);
        let msg = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {msg}");
        let v: u32 = args[2].parse().unwrap();
        assert!(
            msg.contains(&format!("there is no migration {v:04}")) && msg.contains("0001 to 0006"),
            "{msg}"
        );
        assert!(!out_file.exists(), "nothing is written");
    }
    for args in [
        &["diagram", "--at", "1", "--change", "2"][..],
        &["diagram", "--at", "x"],
        &["diagram", "--at", "-1"],
        &["diagram", "--format", "png"],
    ] {
        let o = migrator(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
    // A folder that is not there: exit 1, the path named.
    let o = migrator(dir.path(), &["diagram", "-o", "/nonexistent-dir/x.html"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("/nonexistent-dir/x.html"), "{}", text(&o));
}

#[test]
fn help_documents_every_argument_and_value() {
    let o = migrator(Path::new("."), &["diagram", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for word in [
        "--format <FORMAT>",
        "mermaid",
        "html",
        "svg",
        "--at <N>",
        "--change <N>",
        "-o, --output <FILE>",
        "No database needed",
    ] {
        assert!(help.contains(word), "`{word}` not in\n{help}");
    }
    for line in help.lines().filter(|l| l.trim_start().starts_with("- ")) {
        assert!(line.contains(':'), "a value without a description: {line}");
    }
}

/// Chromium, or `None` (loudly) when it is not installed outside CI; under
/// `CI=true` a missing browser fails the test.
fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MIGRATOR_TEST_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("Chromium is required under CI (apt-get install chromium) but is not on PATH");
    }
    eprintln!("\n!!!!!!!! SKIPPING browser test: chromium is not on PATH (apt-get install chromium, or set MIGRATOR_TEST_CHROMIUM) !!!!!!!!\n");
    None
}

/// How long Chromium may take to load and dump a page.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// The DOM of `page` after Chromium has loaded it (and run its script).
fn dump_dom(browser: &Path, page: &Path) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let out_path = profile.path().join("dom.html");
    let out = std::fs::File::create(&out_path).expect("dom file");
    let mut child = Command::new(browser)
        .arg("--headless=new")
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--no-first-run")
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("p").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if start.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(&out_path).expect("dumped DOM")
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// An attribute of the dumped `<body>`.
fn body_attr(dom: &str, name: &str) -> Option<String> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let key = format!(" {name}=\"");
    let at = body.find(&key)? + key.len();
    let rest = &body[at..];
    Some(unescape(&rest[..rest.find('"')?]))
}

/// Renders `args` to an HTML file, opens it in Chromium, and checks that the
/// page's own check passed for exactly `tables`.
fn shown_in_browser(dir: &Path, browser: &Path, args: &[&str], tables: &BTreeSet<String>) {
    let page = dir.join("page.html");
    let _ = std::fs::remove_file(&page);
    let mut all = vec![
        "diagram",
        "--format",
        "html",
        "-o",
        page.to_str().expect("utf-8 path"),
    ];
    all.extend(args);
    let o = migrator(dir, &all);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dom = dump_dom(browser, &page);
    let check = body_attr(&dom, "data-check")
        .unwrap_or_else(|| panic!("the page's check did not run:\n{dom}"));
    assert_eq!(check, format!("ok {} tables", tables.len()), "{args:?}");
    let shown: BTreeSet<String> = body_attr(&dom, "data-shown")
        .expect("data-shown")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(&shown, tables, "{args:?}");
}

#[test]
fn the_page_shows_every_table_in_a_real_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = example_copy();
    let set = example_set();
    let all = tables_at(&set, set.len());
    assert_eq!(all.len(), 4, "{all:?}");
    shown_in_browser(dir.path(), &browser, &[], &all);
    shown_in_browser(dir.path(), &browser, &["--at", "1"], &tables_at(&set, 1));
    // The change of 0003 shows the tables of both sides.
    shown_in_browser(dir.path(), &browser, &["--change", "3"], &all);
    shown_in_browser(dir.path(), &browser, &["--change", "6"], &all);
}

#[test]
fn the_check_reports_overlapping_boxes() {
    // The page's own check must be able to fail: two boxes moved onto each
    // other are reported, not passed.
    let Some(browser) = chromium() else {
        return;
    };
    let dir = example_copy();
    let page = dir.path().join("page.html");
    let o = migrator(
        dir.path(),
        &["diagram", "--format", "html", "-o", page.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let html = std::fs::read_to_string(&page).expect("page");
    // Put every box at the same place.
    let mut bad = String::new();
    for (i, part) in html.split("transform=\"translate(").enumerate() {
        if i == 0 {
            bad.push_str(part);
        } else {
            let rest = &part[part.find(')').expect("translate")..];
            bad.push_str("transform=\"translate(24 24");
            bad.push_str(rest);
        }
    }
    std::fs::write(&page, &bad).expect("write");
    let dom = dump_dom(&browser, &page);
    let check = body_attr(&dom, "data-check").expect("the check ran");
    assert!(
        check.starts_with("problems: ") && check.contains("overlap: "),
        "{check}"
    );

    // Boxes too narrow for their text are reported too (the layout's width
    // estimate is what the passing tests vouch for).
    let narrow = html.replace(
        "<rect class=\"box\" width=\"",
        "<rect class=\"box\" width=\"40\" data-w=\"",
    );
    std::fs::write(&page, &narrow).expect("write");
    let dom = dump_dom(&browser, &page);
    let check = body_attr(&dom, "data-check").expect("the check ran");
    assert!(
        check.starts_with("problems: ") && check.contains("text outside its box: users: "),
        "{check}"
    );
    let shown = body_attr(&dom, "data-shown").expect("data-shown");
    assert!(shown.is_empty(), "no box passed: {shown}");
}

#[allow(dead_code)]
#[path = "../../tests/db/support.rs"]
mod support;

/// Names that need escaping in XML and in Mermaid, wide characters, a long
/// verbatim type and a self reference.
const HOSTILE: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "order")]
pub struct Order {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(column = "a--b/*c*/", default = 0)]
    pub dashes: i32,
    #[model(column = "<b>&amp#*x*</b>", max_length = 40)]
    pub markup: Option<String>,
    #[model(column = "价格价格_long_column_with_wide_chars", sql_type = "NUMERIC(12, 2)")]
    pub price: f64,
}

#[derive(Model)]
#[model(table = "Select$Table<x>&y")]
pub struct Line {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(column = "Order", foreign_key = "order.id", on_delete = "cascade", index)]
    pub order_id: i64,
    #[model(foreign_key = "Select$Table<x>&y.id")]
    pub parent_id: Option<i64>,
}
"#;

#[test]
fn hostile_names_are_shown_exactly_in_a_real_browser() {
    let p = support::TestProject::new();
    p.set_models(HOSTILE);
    p.generate("create_hostile").expect("0001");
    let set = MigrationSet::load(&p.migrations_dir()).expect("loads");
    let tables = tables_at(&set, set.len());
    assert_eq!(tables.len(), 2, "{tables:?}");
    let o = migrator(p.root(), &["diagram"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    assert!(
        out.contains("\"Select$Table\u{2039}x\u{203a}+y\" {"),
        "{out}"
    );
    assert!(out.contains("varchar(40) _b__amp__x___b \"name: \u{2039}b\u{203a}+amp\u{266f}\u{2217}x\u{2217}\u{2039}/b\u{203a}; nullable\""), "{out}");
    // The page names every table and column exactly, escaped.
    let o = migrator(p.root(), &["diagram", "--format", "html"]);
    let page = stdout(&o);
    assert!(
        page.contains("data-table=\"Select$Table&lt;x&gt;&amp;y\""),
        "{page}"
    );
    assert!(
        page.contains(">&lt;b&gt;&amp;amp#*x*&lt;/b&gt;</text>"),
        "{page}"
    );
    let Some(browser) = chromium() else {
        return;
    };
    shown_in_browser(p.root(), &browser, &[], &tables);
    shown_in_browser(p.root(), &browser, &["--change", "1"], &tables);
}

#[test]
fn the_readme_example_is_what_the_command_prints() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README");
    let section = &readme[readme.find("## Diagrams").expect("a Diagrams section")..];
    let start = section.find("```mermaid\n").expect("a mermaid block") + 11;
    let block = &section[start..];
    let block = &block[..block.find("```").expect("closed")];
    let o = migrator(&example_dir(), &["diagram"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(stdout(&o), block);
}

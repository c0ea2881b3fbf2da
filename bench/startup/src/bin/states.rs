//! Memory and time of a `MigrationSet`'s schema states for a long chain:
//! 200 tables of 8 columns (with an index each) created by migrations
//! 1-200, then 300 migrations adding a column each, the shape of
//! bench/compile_time's app. Compares the old representation (every state
//! kept: what `MigrationSet` held before, built by replaying each upgrade
//! on a copy of the previous state) with the set as it is now: `load`
//! (read, validate, keep checkpoints) and the first rendering of the last
//! migration. Live heap bytes are counted by a global allocator.
//!
//! Usage: cargo run --release --bin states [MIGRATIONS]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use migrator_core::migration::{downgrade_for, read_dir, Direction, MigrationFile, MigrationSet};
use migrator_core::ops::replay;
use migrator_core::schema::{Column, ColumnType, Index, Schema, Table};
use migrator_core::snapshot::{chain_of, file_entry, Snapshot};
use migrator_core::{Dialect, Operation};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

fn live_mb() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / 1e6
}

fn file(i: usize, tables: usize) -> MigrationFile {
    let upgrade = if i <= tables {
        let mut t = Table::new(format!("table_{i:05}"));
        t.columns.push(Column::new("id", ColumnType::BigInt));
        for c in 0..7 {
            let mut col = Column::new(format!("column_{c}"), ColumnType::Text);
            col.nullable = c % 2 == 0;
            t.columns.push(col);
        }
        t.primary_key = vec!["id".into()];
        t.indexes.push(Index {
            name: format!("idx_table_{i:05}_column_1"),
            columns: vec!["column_1".into()],
        });
        vec![Operation::CreateTable { table: t }]
    } else {
        let mut col = Column::new(format!("extra_{i}"), ColumnType::BigInt);
        col.nullable = true;
        vec![Operation::AddColumn {
            table: format!("table_{:05}", (i - tables - 1) % tables + 1),
            column: col,
        }]
    };
    let downgrade = downgrade_for(&upgrade);
    MigrationFile::new(format!("step {i}"), upgrade, downgrade)
}

fn main() {
    let n: usize = std::env::args().nth(1).map_or(500, |a| a.parse().expect("N"));
    let tables = (n * 2 / 5).max(1);
    let dir = std::env::temp_dir().join(format!("migrator-bench-states-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut schema = Schema::new();
    let mut entries = Vec::new();
    for i in 1..=n {
        let f = file(i, tables);
        schema = replay(&schema, &f.upgrade).expect("replays");
        let name = format!("{i:04}_step_{i}.toml");
        let text = f.to_text("bench");
        std::fs::write(dir.join(&name), &text).expect("write");
        entries.push((i as u32, migrator_core::migration::checksum(&text), name));
    }
    let snap = Snapshot {
        head: n as u32,
        chain: chain_of(entries.iter().map(|(v, c, _)| (*v, c.as_str()))),
        files: entries.iter().map(|(_, c, f)| file_entry(c, f)).collect(),
        schema,
    };
    std::fs::write(dir.join("schema.toml"), snap.to_text()).expect("write");

    println!("| {n} migrations, {tables} tables | live heap (MB) | time (ms) |");
    println!("|---|---|---|");
    // The old representation: every state kept.
    let migrations = read_dir(&dir).expect("reads");
    let base = live_mb();
    let t = Instant::now();
    let mut states = vec![Schema::new()];
    for m in &migrations {
        let before = states.last().cloned().unwrap_or_default();
        states.push(replay(&before, &m.file.upgrade).expect("replays"));
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("| before: every state kept (replay of the upgrades) | {:.1} | {ms:.1} |", live_mb() - base);
    drop(states);
    drop(migrations);

    let base = live_mb();
    let t = Instant::now();
    let set = MigrationSet::load(&dir).expect("loads");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("| now: `MigrationSet::load` (read, parse, validate, checkpoints) | {:.1} | {ms:.1} |", live_mb() - base);
    let base_files = {
        let m = read_dir(&dir).expect("reads");
        let b = live_mb();
        drop(m);
        b - live_mb()
    };
    println!("| (of which the parsed migrations themselves) | {base_files:.1} | - |");
    let t = Instant::now();
    let sql = set.render(Dialect::Postgres, n as u32, Direction::Up).expect("renders");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("| now: first rendering of migration {n} after `load` | - | {ms:.2} |");
    let t = Instant::now();
    for v in 1..=n as u32 {
        set.render(Dialect::Postgres, v, Direction::Up).expect("renders");
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("| now: rendering all {n} in order | - | {ms:.1} |");
    assert!(!sql.is_empty());
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

//! A project on disk: `migrator.toml`, the model sources, the migrations
//! folder. The CLI's `generate` and `check` are thin wrappers over this
//! module; it computes everything and writes nothing (only the CLI writes).

use std::path::{Path, PathBuf};

pub use crate::config::{Config, CONFIG_FILE};
use crate::dialect::{render_ops, Dialect, RenderError};
use crate::diff::{diff, DiffError, Plan};
use crate::migration::{self, is_snake_case, MigrationError, MigrationFile, MigrationSet};
use crate::model::{IndexNames, ModelError, Models};
use crate::schema::Schema;
use crate::snapshot::{extend_chain, file_entry, Snapshot};

/// Anything that stops `generate` or `check`.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    #[error(transparent)]
    Files(#[from] MigrationError),
    /// Every model error at once, each as `file:line:column: error: ...`
    /// under a count (the CLI prefixes the first line with `error: `).
    #[error("{} problem(s) in the models:\n{}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Models(Vec<ModelError>),
    #[error("cannot plan this change: {0}")]
    Diff(#[from] DiffError),
    #[error("cannot render the new migration: {0}")]
    Render(#[from] RenderError),
    #[error("{0}")]
    Usage(String),
}

/// A project rooted at a crate directory.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub config: Config,
}

/// The head of the migrations folder, for `generate`: see
/// `Project::head_and_models`.
struct Head {
    head: u32,
    /// `(version, checksum, file name)` of every migration, in order.
    entries: Vec<(u32, String, String)>,
    /// The schema after the last migration.
    schema: Schema,
}

impl Head {
    /// Loads and validates the whole folder.
    fn load(project: &Project) -> Result<Head, ProjectError> {
        let set = project.migrations()?;
        Ok(Head {
            head: set.head(),
            entries: set
                .migrations
                .iter()
                .map(|m| (m.version, m.checksum.clone(), m.file_name.clone()))
                .collect(),
            schema: set.last_state().clone(),
        })
    }
}

/// What `generate` would write.
#[derive(Debug, Clone)]
pub struct Generated {
    pub version: u32,
    pub file_name: String,
    pub migration: MigrationFile,
    pub migration_text: String,
    pub snapshot_text: String,
    pub plan: Plan,
    /// The schema the migration starts from (the previous snapshot), so
    /// callers can render and lint it without reloading the folder.
    pub before: Schema,
}

impl Project {
    /// Opens the project at `root`, reading `migrator.toml` if present.
    pub fn open(root: &Path) -> Result<Project, ProjectError> {
        let config = Config::read(root)?;
        for d in &config.dialects {
            d.parse::<Dialect>().map_err(|e| {
                ProjectError::Usage(format!("{}: {e}", root.join(CONFIG_FILE).display()))
            })?;
        }
        Ok(Project {
            root: root.to_path_buf(),
            config,
        })
    }

    pub fn migrations_dir(&self) -> PathBuf {
        self.root.join(&self.config.migrations)
    }

    pub fn snapshot_path(&self) -> PathBuf {
        self.migrations_dir().join(migration::SNAPSHOT_FILE)
    }

    /// The dialects whose diesel types `print-schema`, `check` and
    /// `migrator::schema!()` agree on: the configured ones, else all.
    pub fn schema_dialects(&self) -> Vec<Dialect> {
        let d = self.dialects();
        if d.is_empty() {
            Dialect::ALL.to_vec()
        } else {
            d
        }
    }

    /// The configured dialects, parsed.
    pub fn dialects(&self) -> Vec<Dialect> {
        self.config
            .dialects
            .iter()
            .filter_map(|d| d.parse().ok())
            .collect()
    }

    /// Where index names must be unique: per table when every dialect the
    /// project declares is MySQL/MariaDB, else across the database.
    pub fn index_names(&self) -> IndexNames {
        let dialects = self.dialects();
        if !dialects.is_empty() && dialects.iter().all(|d| d.backend().index_names_per_table()) {
            IndexNames::PerTable
        } else {
            IndexNames::SchemaWide
        }
    }

    /// Parses every model under the configured folders, as one set (so a
    /// foreign key may point at a model in another folder).
    pub fn models(&self) -> Result<Models, ProjectError> {
        let roots: Vec<PathBuf> = self
            .config
            .models
            .iter()
            .map(|d| self.root.join(d))
            .collect();
        let models = crate::model::scan_dirs_cached(&roots, self.index_names())
            .map_err(ProjectError::Models)?;
        if !crate::model::limits::postgres_targeted(&self.dialects()) {
            return Ok(models);
        }
        let long: Vec<ModelError> = models
            .defs
            .iter()
            .flat_map(|def| {
                crate::model::limits::too_long_for_postgres(def)
                    .into_iter()
                    .map(move |(_, message)| ModelError {
                        file: def.file.clone().unwrap_or_default(),
                        line: def.line,
                        column: 1,
                        message: format!("in `{}`: {message}", def.struct_name),
                    })
            })
            .collect();
        if long.is_empty() {
            Ok(models)
        } else {
            Err(ProjectError::Models(long))
        }
    }

    /// Reads and validates the migrations and the snapshot.
    pub fn migrations(&self) -> Result<MigrationSet, ProjectError> {
        Ok(MigrationSet::load(&self.migrations_dir())?)
    }

    /// What `generate` starts from: the snapshot, when every migration
    /// file in the folder is exactly the one the snapshot lists (same names,
    /// same checksums, in order). The snapshot was written, with its
    /// schema, by the `generate` or `rehash` that validated those very
    /// files, so the chain is not parsed and replayed again: `check`,
    /// `cargo build` (the derive and `embed_migrations!`) and the runner
    /// validate the whole chain. Anything else (an edited, added, missing
    /// or renamed file, no snapshot) is loaded and validated in full, which
    /// reports the problem. The models are parsed on another thread
    /// meanwhile.
    fn head_and_models(&self) -> Result<(Head, Models), ProjectError> {
        std::thread::scope(|scope| {
            let models = scope.spawn(|| {
                let _t = crate::timing::phase("read: models");
                self.models()
            });
            let t = crate::timing::phase("read: head");
            let head = self.head();
            drop(t);
            let models = models
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            Ok((head?, models?))
        })
    }

    fn head(&self) -> Result<Head, ProjectError> {
        let dir = self.migrations_dir();
        let t = crate::timing::phase("head: snapshot");
        let snapshot = Snapshot::read(&self.snapshot_path())?;
        drop(t);
        let _t = crate::timing::phase("head: files and chain");
        let mut files: Vec<(u32, String, String)> = Vec::new();
        for (name, text) in migration::read_files(&dir)? {
            match migration::parse_file_name(&name) {
                Ok(Some((version, _))) => files.push((version, name, text)),
                Ok(None) => {}
                // A bad name: the full load names it.
                Err(_) => return Head::load(self),
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let entries: Vec<(u32, String, String)> = files
            .iter()
            .map(|(v, name, text)| (*v, migration::checksum(text), name.clone()))
            .collect();
        let listed = entries.len() == snapshot.files.len()
            && entries
                .iter()
                .zip(&snapshot.files)
                .all(|((_, sum, name), e)| *e == file_entry(sum, name))
            && snapshot.head == entries.last().map_or(0, |e| e.0)
            && snapshot.chain
                == crate::snapshot::chain_of(entries.iter().map(|(v, c, _)| (*v, c.as_str())));
        if !listed || snapshot.head == 0 {
            return Head::load(self);
        }
        Ok(Head {
            head: snapshot.head,
            entries,
            schema: snapshot.schema,
        })
    }

    /// The plan from the snapshot to the models (empty when they agree).
    pub fn pending_changes(&self) -> Result<(MigrationSet, Models, Plan), ProjectError> {
        let set = self.migrations()?;
        let mut models = self.models()?;
        let current = set.last_state().clone();
        keep_columns(&mut models, &current)?;
        adopt_check_names(&mut models, &current);
        let plan = diff(&current, &models.schema, &models.hints)?;
        Ok((set, models, plan))
    }

    /// Computes the next migration named `name`, or `None` when the models
    /// match the snapshot. Writes nothing.
    pub fn generate(&self, name: &str) -> Result<Option<Generated>, ProjectError> {
        if !is_snake_case(name) {
            return Err(ProjectError::Usage(format!(
                "`{name}` is not a valid migration name\nhelp: use snake_case letters, digits and underscores, e.g. `add_priority_column`"
            )));
        }
        let read = crate::timing::phase("generate: read");
        let (head, mut models) = self.head_and_models()?;
        drop(read);
        let t = crate::timing::phase("generate: diff");
        keep_columns(&mut models, &head.schema)?;
        adopt_check_names(&mut models, &head.schema);
        let mut plan = diff(&head.schema, &models.schema, &models.hints)?;
        drop(t);
        if plan.is_empty() {
            return Ok(None);
        }
        plan.warnings.extend(crate::model::kept_notes(&models));
        crate::keep::keep_drops(&mut plan, head.head + 1, &head.schema);
        crate::not_null::backfill_not_null(&mut plan, &head.schema);
        crate::expand::expand_contract(
            &mut plan,
            &head.schema,
            &models.schema,
            &models.hints,
            &self.dialects(),
        )
        .map_err(ProjectError::Usage)?;
        let Head {
            head,
            entries,
            schema: current,
        } = head;
        // Render for every dialect now, so a change one of them cannot
        // express is reported before a file is written: an error for the
        // dialects the project declares in migrator.toml, a warning for the
        // others (a SQLite-only project is not held back by MySQL's limits).
        let t = crate::timing::phase("generate: render");
        let declared = self.dialects();
        for d in Dialect::ALL {
            if let Err(e) = render_ops(d, &plan.upgrade, &current) {
                if declared.contains(&d) {
                    return Err(e.into());
                }
                plan.warnings.push(format!(
                    "this migration cannot run on {d}: {e} (declare `dialects` in migrator.toml to make this an error)"
                ));
            }
        }
        // `diff` has replayed the plan both ways (`diff::verify`): the
        // upgrade reaches the models and the downgrade, which is exactly
        // this one, restores the snapshot, so a wrong plan never reaches
        // the disk.
        drop(t);
        let _t = crate::timing::phase("generate: write texts");
        let mut target = models.schema;
        target.normalize();
        let header = format!(
            "{{file}}: generated by `migrator generate {name}`.\nReview it; once applied anywhere, never edit it: write a new migration instead."
        );
        Ok(Some(next_migration(
            head, &entries, name, plan, target, current, &header,
        )))
    }

    /// The next migration named `name` with no steps, for a hand-written
    /// data migration (`migrator generate --empty`): numbered and recorded
    /// in the snapshot like any other, with commented examples of the steps
    /// to write; the schema is unchanged. Writes nothing.
    pub fn generate_empty(&self, name: &str) -> Result<Generated, ProjectError> {
        if !is_snake_case(name) {
            return Err(ProjectError::Usage(format!(
                "`{name}` is not a valid migration name\nhelp: use snake_case letters, digits and underscores, e.g. `backfill_display_names`"
            )));
        }
        let Head {
            head,
            entries,
            schema,
        } = self.head()?;
        let header = format!(
            "{{file}}: written by `migrator generate --empty {name}`, to fill in by hand.\n\
             Add its steps below, then run `migrator rehash` (the snapshot records this\n\
             file's checksum). Once applied anywhere, never edit it: write a new migration.\n\
             \n\
             [[upgrade]]\n\
             op = \"sql\"\n\
             sql = \"UPDATE users SET display_name = name WHERE display_name IS NULL\"\n\
             reverse = \"UPDATE users SET display_name = NULL\"   # without it the step is irreversible\n\
             \n\
             [[upgrade]]\n\
             op = \"backfill\"                                     # batched and resumable (docs/BACKFILL.md)\n\
             table = \"users\"\n\
             set = \"email = lower(email)\"\n\
             where = \"email <> lower(email)\"\n\
             \n\
             A step that changes modelled tables declares it with `effect = [..]` (typed\n\
             operations), so that the snapshot stays exact."
        );
        Ok(next_migration(
            head,
            &entries,
            name,
            Plan::default(),
            schema.clone(),
            schema,
            &header,
        ))
    }

    /// The snapshot text with its hash chain recomputed over the current
    /// files, after checking that the files still replay to the snapshot's
    /// schema. For an intended edit of a migration not applied anywhere yet.
    pub fn rehash(&self) -> Result<String, ProjectError> {
        let dir = self.migrations_dir();
        let migrations = migration::read_dir(&dir)?;
        let snapshot = Snapshot::read(&self.snapshot_path())?;
        let states = migration::replay_states(&dir, &migrations)?;
        if states.last().cloned().unwrap_or_default() != snapshot.schema {
            return Err(ProjectError::Usage(format!(
                "{}: replaying the migrations does not give the snapshot's schema, so rehashing would hide a real difference",
                dir.display()
            )));
        }
        Ok(Snapshot {
            head: migrations.last().map_or(0, |m| m.version),
            chain: crate::snapshot::chain_of(
                migrations.iter().map(|m| (m.version, m.checksum.as_str())),
            ),
            files: migrations
                .iter()
                .map(|m| file_entry(&m.checksum, &m.file_name))
                .collect(),
            schema: snapshot.schema,
        }
        .to_text())
    }
}

debug_as_display!(ProjectError);
/// The snapshot's positional names of unnamed checks kept
/// (`naming::adopt_check_names`), for the models' tables the snapshot has
/// (under their name or the one they are renamed from).
fn adopt_check_names(models: &mut Models, snapshot: &Schema) {
    // The snapshot with the hinted renames applied, so that a check whose
    // expression a column rename rewrote is found under its old name.
    let mut renamed = snapshot.clone();
    for (new, old) in &models.hints.tables {
        let _ = crate::ops::Operation::RenameTable {
            from: old.clone(),
            to: new.clone(),
        }
        .apply(&mut renamed);
    }
    for ((table, new), old) in &models.hints.columns {
        let _ = crate::ops::Operation::RenameColumn {
            table: table.clone(),
            from: old.clone(),
            to: new.clone(),
        }
        .apply(&mut renamed);
    }
    for def in &models.defs {
        let snap = renamed.table(&def.table.name);
        let (Some(snap), Some(table)) = (snap, models.schema.tables.get_mut(&def.table.name))
        else {
            continue;
        };
        if !table.checks.is_empty() {
            crate::schema::naming::adopt_check_names(table, snap);
        }
    }
}

/// The models' tables with their kept columns (`#[model(keep = "..")]`)
/// taken from `snapshot`, as the database keeps them.
fn keep_columns(models: &mut Models, snapshot: &Schema) -> Result<(), ProjectError> {
    let mut errors = Vec::new();
    for def in models.defs.iter().filter(|d| !d.kept.is_empty()) {
        let snap = snapshot.table(&def.table.name).or_else(|| {
            def.renamed_from
                .as_ref()
                .and_then(|old| snapshot.table(old))
        });
        match crate::model::with_kept(def, snap) {
            Ok(table) => models.schema.insert(table),
            Err(message) => errors.push(ModelError {
                file: def.file.clone().unwrap_or_default(),
                line: def.line,
                column: 1,
                message: format!("in `{}`: {message}", def.struct_name),
            }),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ProjectError::Models(errors))
    }
}

/// The file and snapshot texts of migration `head + 1` named `name` with
/// `plan`'s steps, leading from `before` to `target`. `header` is the
/// file's comment, `{file}` standing for its name.
fn next_migration(
    head: u32,
    entries: &[(u32, String, String)],
    name: &str,
    plan: Plan,
    target: Schema,
    before: Schema,
    header: &str,
) -> Generated {
    let version = head + 1;
    let file_name = format!("{version:04}_{name}.toml");
    let migration = MigrationFile {
        generated_by: Some(format!("migrator {}", env!("CARGO_PKG_VERSION"))),
        allow: plan.allow.clone(),
        ..MigrationFile::new(
            name.replace('_', " "),
            plan.upgrade.clone(),
            plan.downgrade.clone(),
        )
    };
    let migration_text = migration.to_text(&header.replace("{file}", &file_name));
    let migration_checksum = migration::checksum(&migration_text);
    let chain = extend_chain(
        &crate::snapshot::chain_of(entries.iter().map(|(v, c, _)| (*v, c.as_str()))),
        version,
        &migration_checksum,
    );
    let mut files: Vec<String> = entries
        .iter()
        .map(|(_, sum, name)| file_entry(sum, name))
        .collect();
    files.push(file_entry(&migration_checksum, &file_name));
    let snapshot_text = Snapshot {
        head: version,
        chain,
        files,
        schema: target,
    }
    .to_text();
    Generated {
        version,
        file_name,
        migration,
        migration_text,
        snapshot_text,
        plan,
        before,
    }
}

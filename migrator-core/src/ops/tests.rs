use super::*;
use crate::schema::Schema;
use crate::schema::{ColumnType, Index};

fn users() -> Table {
    let mut t = Table::new("users");
    let mut id = Column::new("id", ColumnType::BigInt);
    id.auto_increment = true;
    t.columns.push(id);
    t.columns
        .push(Column::new("email", ColumnType::Varchar(200)));
    t.primary_key = vec!["id".into()];
    t
}

#[test]
fn every_operation_round_trips_through_its_inverse() {
    let mut base = Schema::new();
    base.insert(users());
    let ops = vec![
        Operation::AddColumn {
            table: "users".into(),
            column: Column::new("name", ColumnType::Text),
        },
        Operation::RenameColumn {
            table: "users".into(),
            from: "email".into(),
            to: "mail".into(),
        },
        Operation::CreateIndex {
            table: "users".into(),
            index: Index {
                name: "idx_users_mail".into(),
                columns: vec!["mail".into()],
            },
        },
        Operation::RenameTable {
            from: "users".into(),
            to: "people".into(),
        },
    ];
    let after = replay(&base, &ops).expect("upgrade replays");
    assert!(after.table("people").is_some());
    assert_eq!(
        after.table("people").unwrap().indexes[0].columns,
        vec!["mail".to_string()]
    );
    let back = replay(&after, &inverse_all(&ops)).expect("downgrade replays");
    assert_eq!(back, base);
}

#[test]
fn replay_names_the_failing_step() {
    let base = Schema::new();
    let ops = vec![Operation::DropTable { table: users() }];
    let e = replay(&base, &ops).unwrap_err();
    assert_eq!(e.0, "step 1 (drop_table): table `users` does not exist");
}

#[test]
fn destructive_operations_are_flagged() {
    let drop = Operation::DropColumn {
        table: "users".into(),
        column: Column::new("email", ColumnType::Text),
    };
    assert!(drop.is_destructive());
    assert!(!drop.inverse().is_destructive());
    let narrow = Operation::AlterColumn {
        table: "users".into(),
        from: Column::new("email", ColumnType::Varchar(200)),
        to: Column::new("email", ColumnType::Varchar(20)),
    };
    assert!(narrow.is_destructive());
    assert!(!narrow.inverse().is_destructive());
}

#[test]
fn a_dropped_and_re_added_column_is_the_same_table_in_another_order() {
    let mut base = Schema::new();
    let mut t = users();
    t.columns.push(Column::new("name", ColumnType::Text));
    base.insert(t);
    let drop = vec![Operation::DropColumn {
        table: "users".into(),
        column: Column::new("email", ColumnType::Varchar(200)),
    }];
    let after = replay(&base, &drop).expect("drops");
    let back = replay(&after, &inverse_all(&drop)).expect("re-adds");
    let names: Vec<&str> = back.tables["users"]
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["id", "name", "email"]);
    assert_eq!(back, base);
    // A real difference still counts.
    let mut other = back.clone();
    other.tables.get_mut("users").unwrap().columns[2].nullable = true;
    assert_ne!(other, base);
}

#[test]
fn a_primary_key_name_is_checked_on_replay() {
    let mut base = Schema::new();
    let mut t = users();
    t.indexes.push(Index {
        name: "idx_users_email".into(),
        columns: vec!["email".into()],
    });
    base.insert(t);
    let taken = replay(
        &base,
        &[Operation::SetPrimaryKeyName {
            table: "users".into(),
            from: None,
            to: Some("idx_users_email".into()),
        }],
    )
    .unwrap_err();
    assert_eq!(
        taken.0,
        "step 1 (set_primary_key_name): `idx_users_email` already exists on table `users`"
    );
    let mut keyless = users();
    keyless.name = "tags".into();
    keyless.primary_key.clear();
    keyless.primary_key_name = Some("pk_tags".into());
    let e = replay(&base, &[Operation::CreateTable { table: keyless }]).unwrap_err();
    assert_eq!(
        e.0,
        "step 1 (create_table): table `tags` names a primary key it does not have"
    );
    let named = replay(
        &base,
        &[Operation::SetPrimaryKeyName {
            table: "users".into(),
            from: None,
            to: Some("pk_users".into()),
        }],
    )
    .expect("a free name");
    assert_eq!(
        named
            .table("users")
            .and_then(|t| t.primary_key_name.as_deref()),
        Some("pk_users")
    );
}

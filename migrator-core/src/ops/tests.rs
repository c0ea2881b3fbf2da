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

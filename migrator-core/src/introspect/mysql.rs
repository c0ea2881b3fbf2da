//! MySQL/MariaDB introspection (in progress: see the module docs of
//! `introspect`).

use super::{Introspect, IntrospectError, Introspected};
use crate::dialect::Dialect;
use crate::schema::Schema;

impl Introspect for diesel::mysql::MysqlConnection {
    fn introspect(&mut self) -> Result<Introspected, IntrospectError> {
        Err(not_yet())
    }

    fn expected(&mut self, _snapshot: &Schema) -> Result<Schema, IntrospectError> {
        Err(not_yet())
    }
}

fn not_yet() -> IntrospectError {
    IntrospectError {
        dialect: Dialect::Mysql,
        query: String::new(),
        message: "reading a MySQL/MariaDB catalog is not supported yet".into(),
    }
}

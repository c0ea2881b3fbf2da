//! MySQL/MariaDB: the objects outside the model (views, triggers,
//! routines, events).

use diesel::mysql::MysqlConnection;

use super::{load, Texts};
use crate::introspect::{IntrospectError, Outside, OutsideKind};

/// Views, triggers, routines and events of the current database. A view's
/// definition is printed with every table and column qualified by the
/// database's name (`` `app`.`tasks`.`id` ``): the qualifier is removed, so
/// the definition is the same in every database (an adopted baseline does
/// not read the source database's tables, and `verify --replay` compares
/// the view with the one the migrations make elsewhere).
pub(super) fn read_objects(
    conn: &mut MysqlConnection,
    outside: &mut Vec<Outside>,
) -> Result<(), IntrospectError> {
    let queries = [
        "SELECT 'view' AS a, CAST(TABLE_NAME AS CHAR) AS b, '' AS c, \
           CAST(REPLACE(VIEW_DEFINITION, CONCAT('`', REPLACE(DATABASE(), '`', '``'), '`.'), '') AS CHAR) AS d \
         FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
        "SELECT 'trigger' AS a, CAST(TRIGGER_NAME AS CHAR) AS b, CAST(EVENT_OBJECT_TABLE AS CHAR) AS c, \
           CAST(CONCAT('CREATE TRIGGER `', TRIGGER_NAME, '` ', ACTION_TIMING, ' ', EVENT_MANIPULATION, ' ON `', EVENT_OBJECT_TABLE, '` FOR EACH ROW ', ACTION_STATEMENT) AS CHAR) AS d \
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
        // A routine's CREATE statement, put together from the catalog
        // (information_schema has no column with the whole statement):
        // parameters with their modes and types, the return type, the
        // characteristics, the comment and the body. NULL when the body is
        // not visible to this user, which adoption then refuses by name.
        "SELECT LOWER(CAST(r.ROUTINE_TYPE AS CHAR)) AS a, CAST(CONCAT(r.ROUTINE_NAME, '()') AS CHAR) AS b, '' AS c, \
           CAST(CONCAT('CREATE ', r.ROUTINE_TYPE, ' `', REPLACE(r.ROUTINE_NAME, '`', '``'), '`(', \
             COALESCE((SELECT GROUP_CONCAT(CONCAT(IF(r.ROUTINE_TYPE = 'PROCEDURE', CONCAT(p.PARAMETER_MODE, ' '), ''), \
                 '`', REPLACE(p.PARAMETER_NAME, '`', '``'), '` ', p.DTD_IDENTIFIER) ORDER BY p.ORDINAL_POSITION SEPARATOR ', ') \
               FROM information_schema.PARAMETERS p WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA \
               AND p.SPECIFIC_NAME = r.SPECIFIC_NAME AND p.ROUTINE_TYPE = r.ROUTINE_TYPE AND p.ORDINAL_POSITION > 0), ''), \
             ')', IF(r.ROUTINE_TYPE = 'FUNCTION', CONCAT(' RETURNS ', r.DTD_IDENTIFIER), ''), \
             IF(r.IS_DETERMINISTIC = 'YES', ' DETERMINISTIC', ' NOT DETERMINISTIC'), ' ', r.SQL_DATA_ACCESS, \
             ' SQL SECURITY ', r.SECURITY_TYPE, \
             IF(r.ROUTINE_COMMENT <> '', CONCAT(' COMMENT ', QUOTE(r.ROUTINE_COMMENT)), ''), \
             '\\n', r.ROUTINE_DEFINITION) AS CHAR) AS d \
         FROM information_schema.ROUTINES r WHERE r.ROUTINE_SCHEMA = DATABASE()",
        "SELECT 'event' AS a, CAST(EVENT_NAME AS CHAR) AS b, '' AS c, CAST(EVENT_DEFINITION AS CHAR) AS d \
         FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()",
    ];
    for q in queries {
        let rows: Vec<Texts> = load(conn, q.to_string())?;
        for r in rows {
            let kind = match r.a.as_str() {
                "view" => OutsideKind::View,
                "trigger" => OutsideKind::Trigger,
                "function" => OutsideKind::Function,
                "procedure" => OutsideKind::Procedure,
                "event" => OutsideKind::Event,
                _ => continue,
            };
            outside.push(Outside {
                kind,
                name: r.b,
                table: (!r.c.is_empty()).then_some(r.c),
                definition: r.d,
            });
        }
    }
    Ok(())
}

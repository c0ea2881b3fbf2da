//! postgres rendering. (Being written.)

use super::{RenderError, Statement};
use crate::ops::Operation;
use crate::schema::Schema;

pub(crate) fn render(op: &Operation, _before: &Schema) -> Result<Vec<Statement>, RenderError> {
    Err(RenderError::Unsupported {
        op: op.to_string(),
        message: "not implemented yet".into(),
    })
}

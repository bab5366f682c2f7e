//! `to_json(value)`: any value (a struct built with `named_struct`, a list, a scalar) as
//! JSON text. Detections use it for the `evidence` column of findings.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray, StructArray};
use arrow::datatypes::{DataType, Field, Fields};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::FunctionDoc;

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "to_json",
    usage: "to_json(value)",
    description: "The value as JSON text: a struct as an object, a list as an array, NULL \
                  fields left out. NULL for NULL.",
    example: "to_json(named_struct('ips', make_array('192.0.2.1', '192.0.2.2'), 'failed', 3))",
    result: r#"{"ips":["192.0.2.1","192.0.2.2"],"failed":3}"#,
};

#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ToJson {
    signature: Signature,
}

impl ToJson {
    pub(super) fn new() -> Self {
        ToJson {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ToJson {
    fn name(&self) -> &str {
        DOC.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let values = args.args[0].to_array(args.number_rows)?;
        let texts = to_json_texts(&values)?;
        let out: ArrayRef = Arc::new(texts);
        Ok(if scalar {
            ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

/// Each row of `values` as JSON text, through arrow's JSON writer: the values become the
/// one field `v` of a record, and `{"v":` ... `}` is taken off each line.
fn to_json_texts(values: &ArrayRef) -> Result<StringArray> {
    let field = Field::new("v", values.data_type().clone(), true);
    let wrapped = StructArray::new(Fields::from(vec![field]), vec![values.clone()], None);
    let batch = RecordBatch::from(&wrapped);
    let mut buffer = Vec::new();
    {
        let mut writer = arrow::json::LineDelimitedWriter::new(&mut buffer);
        writer.write(&batch)?;
        writer.finish()?;
    }
    let text = String::from_utf8(buffer).expect("the JSON writer writes UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    Ok((0..values.len())
        .map(|row| {
            if values.is_null(row) {
                return None;
            }
            let line = lines.get(row)?;
            line.strip_prefix(r#"{"v":"#)
                .and_then(|rest| rest.strip_suffix('}'))
                .map(str::to_string)
        })
        .collect())
}

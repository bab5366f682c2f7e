//! Arrow builders for the `events` columns: rows of [`Slot`]s in, a `RecordBatch` out.

use std::sync::Arc;

use arrow::array::NullBufferBuilder;
use arrow::array::{
    ArrayRef, BooleanBuilder, Int32Builder, ListArray, RecordBatch, StringBuilder, StructArray,
    TimestampMicrosecondBuilder,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Fields};
use simd_json::Node;

use crate::error::Result;
use crate::json_text::{skip, write_value};
use crate::record::{Row, Slot};
use crate::schema::{COLUMNS, ColType, RESOURCE_KEYS, arrow_schema, resource_item_field};

/// Builds `resources` as `List<Struct<arn, account_id, type>>`.
#[derive(Debug)]
struct ResourcesBuilder {
    offsets: Vec<i32>,
    validity: NullBufferBuilder,
    fields: [StringBuilder; 3],
}

impl ResourcesBuilder {
    fn new() -> Self {
        ResourcesBuilder {
            offsets: vec![0],
            validity: NullBufferBuilder::new(0),
            fields: [
                StringBuilder::new(),
                StringBuilder::new(),
                StringBuilder::new(),
            ],
        }
    }

    fn append_null(&mut self) {
        self.offsets
            .push(*self.offsets.last().expect("offsets start at 0"));
        self.validity.append_null();
    }

    /// Appends the array at `nodes[array]`, already checked by `resources_fit`.
    fn append(&mut self, nodes: &[Node<'_>], array: usize) {
        let Node::Array { len, .. } = nodes[array] else {
            return self.append_null();
        };
        let mut at = array + 1;
        for _ in 0..len {
            let mut values: [Option<&str>; 3] = [None; 3];
            if let Node::Object { len: members, .. } = nodes[at] {
                let mut member = at + 1;
                for _ in 0..members {
                    if let (Node::String(key), Node::String(value)) =
                        (nodes[member], nodes[member + 1])
                        && let Some(i) = RESOURCE_KEYS.iter().position(|k| *k == key)
                    {
                        values[i] = Some(value);
                    }
                    member += 2;
                }
            }
            for (builder, value) in self.fields.iter_mut().zip(values) {
                builder.append_option(value);
            }
            at = skip(nodes, at);
        }
        let last = *self.offsets.last().expect("offsets start at 0");
        self.offsets.push(last + len as i32);
        self.validity.append_non_null();
    }

    fn finish(&mut self) -> ArrayRef {
        let item = resource_item_field();
        let DataType::Struct(fields) = item.data_type().clone() else {
            unreachable!("resources items are structs")
        };
        let fields: Fields = fields;
        let columns: Vec<ArrayRef> = self
            .fields
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let structs = StructArray::new(fields, columns, None);
        let offsets = OffsetBuffer::new(std::mem::replace(&mut self.offsets, vec![0]).into());
        let list = ListArray::new(item, offsets, Arc::new(structs), self.validity.finish());
        Arc::new(list)
    }
}

#[derive(Debug)]
enum ColumnBuilder {
    Utf8(StringBuilder),
    Int32(Int32Builder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
    Resources(Box<ResourcesBuilder>),
}

/// Accumulates rows for one partition until they are written as a batch.
#[derive(Debug)]
pub struct BatchBuilder {
    columns: Vec<ColumnBuilder>,
    rows: usize,
    /// The rows and each text column's bytes of the last batch: the next one starts with
    /// that capacity instead of growing to it (growing copied every text column about
    /// twice over; measured ~2% of a 1-thread ingest in `realloc`).
    last_rows: usize,
    last_bytes: Vec<usize>,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        let columns = COLUMNS
            .iter()
            .map(|(_, ty, _)| match ty {
                ColType::Utf8 => ColumnBuilder::Utf8(StringBuilder::new()),
                ColType::Int32 => ColumnBuilder::Int32(Int32Builder::new()),
                ColType::Bool => ColumnBuilder::Bool(BooleanBuilder::new()),
                ColType::Timestamp => ColumnBuilder::Time(TimestampMicrosecondBuilder::new()),
                ColType::Resources => ColumnBuilder::Resources(Box::new(ResourcesBuilder::new())),
            })
            .collect();
        BatchBuilder {
            columns,
            rows: 0,
            last_rows: 0,
            last_bytes: vec![0; COLUMNS.len()],
        }
    }

    /// Gives the empty builders the capacity of the last batch.
    fn reserve_like_last(&mut self) {
        let rows = self.last_rows;
        for (builder, &bytes) in self.columns.iter_mut().zip(&self.last_bytes) {
            match builder {
                ColumnBuilder::Utf8(b) => *b = StringBuilder::with_capacity(rows, bytes),
                ColumnBuilder::Int32(b) => *b = Int32Builder::with_capacity(rows),
                ColumnBuilder::Bool(b) => *b = BooleanBuilder::with_capacity(rows),
                ColumnBuilder::Time(b) => *b = TimestampMicrosecondBuilder::with_capacity(rows),
                ColumnBuilder::Resources(_) => {}
            }
        }
    }

    /// Rows appended since the last [`Self::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no rows are pending.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one row; `nodes` is the tape its slots point into.
    pub fn append(&mut self, row: &Row<'_>, nodes: &[Node<'_>]) {
        if self.rows == 0 && self.last_rows > 0 {
            self.reserve_like_last();
        }
        for (builder, slot) in self.columns.iter_mut().zip(row.slots.iter()) {
            match (builder, *slot) {
                (ColumnBuilder::Utf8(b), Slot::Str(s)) => b.append_value(s),
                (ColumnBuilder::Utf8(b), Slot::Json(index)) => {
                    write_value(nodes, row.numbers, index, b);
                    b.append_value("");
                }
                (ColumnBuilder::Utf8(b), _) => b.append_null(),
                (ColumnBuilder::Int32(b), Slot::Int(v)) => b.append_value(v),
                (ColumnBuilder::Int32(b), _) => b.append_null(),
                (ColumnBuilder::Bool(b), Slot::Bool(v)) => b.append_value(v),
                (ColumnBuilder::Bool(b), _) => b.append_null(),
                (ColumnBuilder::Time(b), Slot::Time(v)) => b.append_value(v),
                (ColumnBuilder::Time(b), _) => b.append_null(),
                (ColumnBuilder::Resources(b), Slot::Resources(index)) => b.append(nodes, index),
                (ColumnBuilder::Resources(b), _) => b.append_null(),
            }
        }
        self.rows += 1;
    }

    /// Takes the pending rows as a batch and empties the builder.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        self.last_rows = self.rows;
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .zip(self.last_bytes.iter_mut())
            .map(|(builder, last_bytes)| -> ArrayRef {
                match builder {
                    ColumnBuilder::Utf8(b) => {
                        *last_bytes = b.values_slice().len();
                        Arc::new(b.finish())
                    }
                    ColumnBuilder::Int32(b) => Arc::new(b.finish()),
                    ColumnBuilder::Bool(b) => Arc::new(b.finish()),
                    ColumnBuilder::Time(b) => Arc::new(b.finish().with_timezone("UTC")),
                    ColumnBuilder::Resources(b) => b.finish(),
                }
            })
            .collect();
        self.rows = 0;
        Ok(RecordBatch::try_new(arrow_schema(), arrays)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordMapper;
    use crate::schema::Col;
    use arrow::array::{Array, AsArray};

    #[test]
    fn builds_a_batch_of_the_schema() {
        let mut bytes =
            br#"{"eventVersion":"1.08","eventTime":"2020-09-14T01:19:40Z","readOnly":false,
            "requestParameters":{"bucketName":"b","n":[1,2]},
            "resources":[{"ARN":"arn:aws:s3:::b","type":"AWS::S3::Bucket"},{"accountId":"1"}]}"#
                .to_vec();
        let tape = simd_json::to_tape(&mut bytes).unwrap();
        let mut mapper = RecordMapper::default();
        let mut builder = BatchBuilder::new();
        let mut row = mapper.map(&tape.0, &[], None);
        row.set(Col::SourceFile, Slot::Str("f.json"));
        row.set(Col::RecordIndex, Slot::Int(7));
        builder.append(&row, &tape.0);
        let batch = builder.finish().unwrap();
        assert_eq!(batch.num_rows(), 1);
        let params = batch
            .column(Col::RequestParameters as usize)
            .as_string::<i32>();
        assert_eq!(params.value(0), r#"{"bucketName":"b","n":[1,2]}"#);
        let resources = batch.column(Col::Resources as usize).as_list::<i32>();
        let items = resources.value(0);
        let items = items.as_struct();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items.column(0).as_string::<i32>().value(0),
            "arn:aws:s3:::b"
        );
        assert!(items.column(1).is_null(0));
        assert_eq!(items.column(1).as_string::<i32>().value(1), "1");
        assert!(batch.column(Col::Unmapped as usize).is_null(0));
    }
}

//! Two aggregates that collect strings per group, for findings that list their events:
//! `ids_in_order(time, id)` (every id, ordered by time and then id) and
//! `distinct_sorted(text)` (the distinct non-null values, sorted).
//!
//! DataFusion's `array_agg(... ORDER BY ...)` and `array_agg(DISTINCT ...)` keep a
//! `ScalarValue` per row and have no grouped accumulator: over the ten million Sigma hits
//! of a 10 GiB trail they took most of the query's time and gigabytes of memory. These keep
//! plain strings per group, for all groups in one accumulator.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, Int64Builder, ListArray, ListBuilder,
    StringBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use super::FunctionDoc;

/// Documentation of `ids_in_order`; its example is checked by the tests in `udf`.
pub(super) const IDS_IN_ORDER_DOC: FunctionDoc = FunctionDoc {
    name: "ids_in_order",
    usage: "ids_in_order(time, id)",
    description: "Aggregate: every non-null `id` of the group, ordered by `time` (a timestamp \
                  or an integer) and then by `id`.",
    example: "ids_in_order(t, id) FROM (VALUES (2, 'b'), (1, 'c'), (1, 'a')) AS v(t, id)",
    result: "[a, c, b]",
};

/// Documentation of `distinct_sorted`; its example is checked by the tests in `udf`.
pub(super) const DISTINCT_SORTED_DOC: FunctionDoc = FunctionDoc {
    name: "distinct_sorted",
    usage: "distinct_sorted(text)",
    description: "Aggregate: the distinct non-null values of the group, sorted.",
    example: "distinct_sorted(x) FROM (VALUES ('b'), ('a'), ('b'), (NULL)) AS v(x)",
    result: "[a, b]",
};

fn string_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

fn int_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)))
}

/// The aggregate `ids_in_order` (`ordered`) or `distinct_sorted`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct StringList {
    ordered: bool,
    signature: Signature,
}

impl StringList {
    pub(super) fn ids_in_order() -> Self {
        StringList {
            ordered: true,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }

    pub(super) fn distinct_sorted() -> Self {
        StringList {
            ordered: false,
            signature: Signature::any(1, Volatility::Immutable),
        }
    }

    fn empty(&self) -> Lists {
        if self.ordered {
            Lists::Ordered(Vec::new())
        } else {
            Lists::Distinct(Vec::new())
        }
    }
}

impl AggregateUDFImpl for StringList {
    fn name(&self) -> &str {
        if self.ordered {
            IDS_IN_ORDER_DOC.name
        } else {
            DISTINCT_SORTED_DOC.name
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(string_list())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let mut fields = vec![Arc::new(Field::new(
            format!("{}[values]", args.name),
            string_list(),
            true,
        ))];
        if self.ordered {
            fields.push(Arc::new(Field::new(
                format!("{}[keys]", args.name),
                int_list(),
                true,
            )));
        }
        Ok(fields)
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup(self.empty())))
    }

    fn groups_accumulator_supported(&self, _: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(self.empty()))
    }
}

/// The strings of every group.
#[derive(Debug, Clone)]
enum Lists {
    /// Each group's (key, id) pairs.
    Ordered(Vec<Vec<(i64, Box<str>)>>),
    /// Each group's distinct values.
    Distinct(Vec<HashSet<Box<str>>>),
}

/// Reads row `i` of a string array of any string type.
fn texts<'a>(array: &'a ArrayRef) -> Result<Box<dyn Fn(usize) -> Option<&'a str> + 'a>> {
    Ok(match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            Box::new(move |i| a.is_valid(i).then(|| a.value(i)))
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            Box::new(move |i| a.is_valid(i).then(|| a.value(i)))
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            Box::new(move |i| a.is_valid(i).then(|| a.value(i)))
        }
        DataType::Null => Box::new(|_| None),
        other => return exec_err!("expected strings, got {other}"),
    })
}

/// A time or number column as i64 (timestamps in their own unit).
fn keys(array: &ArrayRef) -> Result<Int64Array> {
    let as_int = match array.data_type() {
        DataType::Timestamp(unit, _) => cast(
            &cast(array, &DataType::Timestamp(*unit, None))?,
            &DataType::Int64,
        )?,
        _ => cast(array, &DataType::Int64)?,
    };
    Ok(as_int.as_primitive().clone())
}

impl Lists {
    fn resize(&mut self, groups: usize) {
        match self {
            Lists::Ordered(v) => v.resize_with(groups, Vec::new),
            Lists::Distinct(v) => v.resize_with(groups, HashSet::new),
        }
    }

    /// Adds row `row` of `values` (the function's arguments) to `group`.
    fn add_rows(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
    ) -> Result<()> {
        let keep = |row: usize| filter.is_none_or(|f| f.is_valid(row) && f.value(row));
        match self {
            Lists::Ordered(groups) => {
                let times = keys(&values[0])?;
                let ids = texts(&values[1])?;
                for (row, &g) in group_indices.iter().enumerate() {
                    if let Some(id) = ids(row).filter(|_| keep(row)) {
                        let time = if times.is_valid(row) {
                            times.value(row)
                        } else {
                            i64::MIN
                        };
                        groups[g].push((time, id.into()));
                    }
                }
            }
            Lists::Distinct(groups) => {
                let values = texts(&values[0])?;
                for (row, &g) in group_indices.iter().enumerate() {
                    if let Some(v) = values(row).filter(|_| keep(row))
                        && !groups[g].contains(v)
                    {
                        groups[g].insert(v.into());
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds the partial states (lists) of `states` to the groups.
    fn merge(&mut self, states: &[ArrayRef], group_indices: &[usize]) -> Result<()> {
        let values = states[0].as_list::<i32>();
        match self {
            Lists::Ordered(groups) => {
                let key_lists = states[1].as_list::<i32>();
                for (row, &g) in group_indices.iter().enumerate() {
                    if values.is_null(row) {
                        continue;
                    }
                    let ids = values.value(row);
                    let ids = ids.as_string::<i32>();
                    let row_keys = key_lists.value(row);
                    let row_keys = row_keys.as_primitive::<arrow::datatypes::Int64Type>();
                    for i in 0..ids.len() {
                        groups[g].push((row_keys.value(i), ids.value(i).into()));
                    }
                }
            }
            Lists::Distinct(groups) => {
                for (row, &g) in group_indices.iter().enumerate() {
                    if values.is_null(row) {
                        continue;
                    }
                    let list = values.value(row);
                    for v in list.as_string::<i32>().iter().flatten() {
                        if !groups[g].contains(v) {
                            groups[g].insert(v.into());
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The lists of the emitted groups (sorted), and for `ordered` their keys.
    fn emit(&mut self, emit_to: EmitTo, with_keys: bool) -> Vec<ArrayRef> {
        let mut values = ListBuilder::new(StringBuilder::new());
        let mut key_lists = ListBuilder::new(Int64Builder::new());
        match self {
            Lists::Ordered(groups) => {
                for mut group in emit_to.take_needed(groups) {
                    group.sort_unstable();
                    for (key, id) in &group {
                        values.values().append_value(id);
                        key_lists.values().append_value(*key);
                    }
                    values.append(true);
                    key_lists.append(true);
                }
            }
            Lists::Distinct(groups) => {
                for group in emit_to.take_needed(groups) {
                    let mut sorted: Vec<Box<str>> = group.into_iter().collect();
                    sorted.sort_unstable();
                    for v in &sorted {
                        values.values().append_value(v);
                    }
                    values.append(true);
                }
            }
        }
        let values: ListArray = values.finish();
        let mut out: Vec<ArrayRef> = vec![Arc::new(values)];
        if with_keys {
            out.push(Arc::new(key_lists.finish()));
        }
        out
    }

    fn bytes(&self) -> usize {
        match self {
            Lists::Ordered(groups) => groups
                .iter()
                .map(|g| g.capacity() * 24 + g.iter().map(|(_, s)| s.len()).sum::<usize>())
                .sum(),
            Lists::Distinct(groups) => groups
                .iter()
                .map(|g| g.capacity() * 24 + g.iter().map(|s| s.len()).sum::<usize>())
                .sum(),
        }
    }

    fn ordered(&self) -> bool {
        matches!(self, Lists::Ordered(_))
    }
}

impl GroupsAccumulator for Lists {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        self.add_rows(values, group_indices, opt_filter)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(self.emit(emit_to, false).swap_remove(0))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let ordered = self.ordered();
        Ok(self.emit(emit_to, ordered))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        self.merge(values, group_indices)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values.first().map_or(0, |v| v.len());
        let mut each = match self {
            Lists::Ordered(_) => Lists::Ordered(Vec::new()),
            Lists::Distinct(_) => Lists::Distinct(Vec::new()),
        };
        each.resize(rows);
        each.add_rows(values, &(0..rows).collect::<Vec<_>>(), opt_filter)?;
        Ok(each.emit(EmitTo::All, self.ordered()))
    }

    fn size(&self) -> usize {
        self.bytes()
    }
}

/// The same lists for one group: the aggregate without `GROUP BY`.
#[derive(Debug)]
struct OneGroup(Lists);

impl OneGroup {
    fn zeros(values: &[ArrayRef]) -> Vec<usize> {
        vec![0; values.first().map_or(0, |v| v.len())]
    }
}

impl Accumulator for OneGroup {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.resize(1);
        self.0.add_rows(values, &Self::zeros(values), None)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut lists = self.0.clone();
        lists.resize(1);
        ScalarValue::try_from_array(&lists.emit(EmitTo::All, false)[0], 0)
    }

    fn size(&self) -> usize {
        self.0.bytes() + size_of::<Self>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0.resize(1);
        let ordered = self.0.ordered();
        self.0
            .emit(EmitTo::All, ordered)
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.0.resize(1);
        self.0.merge(states, &Self::zeros(states))
    }
}

//! Typed rows to Arrow: one builder per output table, fed row by row with [`Value`]s in
//! schema order, plus the lineage every row carries and the quarantine's row shape.
//!
//! In the chain: below the kinds' parsers and [`crate::file`]; imports only
//! [`crate::values`] and [`crate::encode`] (a table is encoded a row group at a time).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use chrono::{NaiveDate, NaiveDateTime};
use parquet::errors::ParquetError;

use churnlake_lake::{ReportKind, quarantine_schema};

use crate::encode::{ParquetEncoder, ROW_GROUP_ROWS, to_parquet};
use crate::values::{date32, timestamp_ms};

/// One typed cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Text(String),
    Int(i64),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    /// Cents (`DECIMAL(18, 2)`).
    Money(i128),
    Flag(bool),
}

impl Value {
    pub fn text(text: &str) -> Value {
        Value::Text(text.to_owned())
    }
}

enum Column {
    Utf8(StringBuilder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Date32(Date32Builder),
    Timestamp(TimestampMillisecondBuilder),
    Decimal(Decimal128Builder),
    Boolean(BooleanBuilder),
}

impl Column {
    fn new(data_type: &DataType) -> Result<Column, ArrowError> {
        Ok(match data_type {
            DataType::Utf8 => Column::Utf8(StringBuilder::new()),
            DataType::Int32 => Column::Int32(Int32Builder::new()),
            DataType::Int64 => Column::Int64(Int64Builder::new()),
            DataType::Date32 => Column::Date32(Date32Builder::new()),
            DataType::Timestamp(TimeUnit::Millisecond, None) => Column::Timestamp(TimestampMillisecondBuilder::new()),
            DataType::Decimal128(..) => Column::Decimal(Decimal128Builder::new().with_data_type(data_type.clone())),
            DataType::Boolean => Column::Boolean(BooleanBuilder::new()),
            other => {
                return Err(ArrowError::NotYetImplemented(format!("ingest cannot write {other}")));
            }
        })
    }

    fn append(&mut self, value: Value) -> Result<(), ArrowError> {
        match (self, value) {
            (Column::Utf8(b), Value::Null) => b.append_null(),
            (Column::Int32(b), Value::Null) => b.append_null(),
            (Column::Int64(b), Value::Null) => b.append_null(),
            (Column::Date32(b), Value::Null) => b.append_null(),
            (Column::Timestamp(b), Value::Null) => b.append_null(),
            (Column::Decimal(b), Value::Null) => b.append_null(),
            (Column::Boolean(b), Value::Null) => b.append_null(),
            (Column::Utf8(b), Value::Text(text)) => b.append_value(text),
            (Column::Int32(b), Value::Int(n)) => {
                b.append_value(i32::try_from(n).map_err(|e| ArrowError::CastError(e.to_string()))?)
            }
            (Column::Int64(b), Value::Int(n)) => b.append_value(n),
            (Column::Date32(b), Value::Date(date)) => b.append_value(date32(date)),
            (Column::Timestamp(b), Value::Timestamp(at)) => b.append_value(timestamp_ms(at)),
            (Column::Decimal(b), Value::Money(cents)) => b.append_value(cents),
            (Column::Boolean(b), Value::Flag(flag)) => b.append_value(flag),
            (_, value) => {
                return Err(ArrowError::InvalidArgumentError(format!(
                    "value {value:?} does not fit its column's type"
                )));
            }
        }
        Ok(())
    }

    /// The values appended so far, the builder left empty.
    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Utf8(b) => Arc::new(b.finish()),
            Column::Int32(b) => Arc::new(b.finish()),
            Column::Int64(b) => Arc::new(b.finish()),
            Column::Date32(b) => Arc::new(b.finish()),
            Column::Timestamp(b) => Arc::new(b.finish()),
            Column::Decimal(b) => Arc::new(b.finish()),
            Column::Boolean(b) => Arc::new(b.finish()),
        }
    }
}

/// Rows of one table, appended in schema order. Every [`ROW_GROUP_ROWS`] rows the rows
/// built are encoded to Parquet (one row group) and let go, so a table is never in memory
/// whole; [`TableBuilder::encode`] gives the file.
pub(crate) struct TableBuilder {
    schema: SchemaRef,
    columns: Vec<Column>,
    rows: u64,
    /// Rows in `columns` (not yet encoded).
    built: usize,
    /// The file, once a row group has been encoded.
    encoder: Option<ParquetEncoder>,
    /// Why encoding a row group failed (the rows after it are not encoded).
    encode_error: Option<ParquetError>,
}

/// Why a table could not be written.
#[derive(Debug)]
pub(crate) enum EncodeError {
    Arrow(ArrowError),
    Parquet(ParquetError),
}

impl TableBuilder {
    pub fn new(schema: SchemaRef) -> Result<TableBuilder, ArrowError> {
        let columns = schema.fields().iter().map(|f| Column::new(f.data_type())).collect::<Result<_, _>>()?;
        Ok(TableBuilder { schema, columns, rows: 0, built: 0, encoder: None, encode_error: None })
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends one row: one value per schema field, in order.
    pub fn push(&mut self, row: impl IntoIterator<Item = Value>) -> Result<(), ArrowError> {
        let mut count = 0;
        for (column, value) in self.columns.iter_mut().zip(row) {
            column.append(value)?;
            count += 1;
        }
        if count != self.columns.len() {
            return Err(ArrowError::InvalidArgumentError(format!(
                "row has {count} values for {} columns",
                self.columns.len()
            )));
        }
        self.rows += 1;
        self.built += 1;
        if self.built == ROW_GROUP_ROWS {
            self.encode_built()?;
        }
        Ok(())
    }

    /// The rows in the builders as a batch, the builders left empty.
    fn take_built(&mut self) -> Result<RecordBatch, ArrowError> {
        self.built = 0;
        let arrays = self.columns.iter_mut().map(Column::finish).collect();
        RecordBatch::try_new(self.schema.clone(), arrays)
    }

    /// Encodes the rows built as a row group (after a failure, they are dropped: the error
    /// is returned by [`TableBuilder::encode`]).
    fn encode_built(&mut self) -> Result<(), ArrowError> {
        let batch = self.take_built()?;
        if self.encode_error.is_some() {
            return Ok(());
        }
        let written = match &mut self.encoder {
            Some(encoder) => encoder.write(&batch),
            None => ParquetEncoder::new(self.schema.clone()).and_then(|mut encoder| {
                encoder.write(&batch)?;
                self.encoder = Some(encoder);
                Ok(())
            }),
        };
        if let Err(error) = written {
            self.encode_error = Some(error);
        }
        Ok(())
    }

    /// The table as one Parquet file (as [`to_parquet`] writes it); `None` without rows.
    pub fn encode(mut self) -> Result<Option<Vec<u8>>, EncodeError> {
        if self.rows == 0 {
            return Ok(None);
        }
        let rest = self.take_built().map_err(EncodeError::Arrow)?;
        if let Some(error) = self.encode_error {
            return Err(EncodeError::Parquet(error));
        }
        let bytes = match self.encoder {
            None => to_parquet(&rest),
            Some(mut encoder) => encoder.write(&rest).and_then(|()| encoder.finish()),
        };
        bytes.map(Some).map_err(EncodeError::Parquet)
    }

    /// The rows as one batch (tables of fewer rows than a row group).
    #[cfg(test)]
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        match self.encoder {
            None => self.take_built(),
            Some(_) => Err(ArrowError::InvalidArgumentError("rows were encoded already".to_owned())),
        }
    }
}

/// Where a row came from: the lineage columns of `churnlake_lake::lineage_fields`.
#[derive(Debug, Clone)]
pub(crate) struct Lineage {
    pub source_file: String,
    pub report_kind: ReportKind,
    pub drop_stamp: NaiveDateTime,
}

impl Lineage {
    /// The lineage values of the row that starts on `line`, in `lineage_fields` order.
    pub fn values(&self, line: u64) -> [Value; 4] {
        [
            Value::text(&self.source_file),
            Value::Int(i64::try_from(line).unwrap_or(i64::MAX)),
            Value::text(self.report_kind.as_str()),
            Value::Timestamp(self.drop_stamp),
        ]
    }
}

/// Why one input row could not be typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    /// The column (as the file names it) whose value failed, when one did.
    pub column: Option<String>,
    pub value: Option<String>,
    pub reason: String,
}

impl Rejection {
    /// A whole-row problem (field count, unreadable record).
    pub fn row(reason: impl Into<String>) -> Rejection {
        Rejection { column: None, value: None, reason: reason.into() }
    }

    /// A value that could not be typed (`value` empty for a missing required value).
    pub fn cell(column: &str, value: &str, reason: impl Into<String>) -> Rejection {
        Rejection { column: Some(column.to_owned()), value: Some(value.to_owned()), reason: reason.into() }
    }
}

/// The quarantine rows of one source file.
pub(crate) struct Quarantine {
    table: TableBuilder,
    /// The first row quarantined: its line and why.
    first: Option<(u64, Rejection)>,
}

impl Quarantine {
    pub fn new() -> Result<Quarantine, ArrowError> {
        Ok(Quarantine { table: TableBuilder::new(quarantine_schema())?, first: None })
    }

    pub fn rows(&self) -> u64 {
        self.table.rows()
    }

    /// The line of the first row quarantined, and why it was.
    pub fn first(&self) -> Option<&(u64, Rejection)> {
        self.first.as_ref()
    }

    pub fn push(
        &mut self,
        rejection: Rejection,
        raw_record: &str,
        lineage: &Lineage,
        line: u64,
    ) -> Result<(), ArrowError> {
        if self.first.is_none() {
            self.first = Some((line, rejection.clone()));
        }
        let text_or_null = |text: Option<String>| text.map_or(Value::Null, Value::Text);
        let row = [
            text_or_null(rejection.column),
            text_or_null(rejection.value),
            Value::Text(rejection.reason),
            Value::text(raw_record),
        ];
        self.table.push(row.into_iter().chain(lineage.values(line)))
    }

    /// The quarantine as one Parquet file; `None` without rows.
    pub fn encode(self) -> Result<Option<Vec<u8>>, EncodeError> {
        self.table.encode()
    }

    #[cfg(test)]
    pub fn finish(self) -> Result<RecordBatch, ArrowError> {
        self.table.finish()
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn rows_become_typed_columns() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("price", DataType::Decimal128(18, 2), true),
            Field::new("n", DataType::Int32, true),
        ]));
        let mut table = TableBuilder::new(schema).expect("supported types");
        table.push([Value::text("a"), Value::Money(1250), Value::Int(3)]).expect("fits");
        table.push([Value::text("b"), Value::Null, Value::Null]).expect("fits");
        let batch = table.finish().expect("valid batch");
        let price = batch.column(1).as_primitive::<arrow::datatypes::Decimal128Type>();
        assert_eq!(price.value_as_string(0), "12.50");
        assert!(price.is_null(1));
    }

    #[test]
    fn a_table_of_several_row_groups_is_encoded_as_it_is_built_into_the_same_bytes() {
        use arrow::array::{Int64Array, StringArray};
        let schema =
            Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false), Field::new("s", DataType::Utf8, true)]));
        let rows = 2 * ROW_GROUP_ROWS + 3;
        let text = |n: usize| (!n.is_multiple_of(3)).then(|| format!("row {n}"));
        let mut table = TableBuilder::new(schema.clone()).expect("supported types");
        for n in 0..rows {
            let value = text(n).map_or(Value::Null, Value::Text);
            table.push([Value::Int(n as i64), value]).expect("fits");
        }
        assert!(table.encoder.is_some(), "the full row groups are encoded already");
        assert_eq!(table.built, 3, "and let go");
        let whole = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(0..rows as i64)),
                Arc::new(StringArray::from_iter((0..rows).map(text))),
            ],
        )
        .expect("a batch");
        let bytes = table.encode().expect("encodes").expect("rows");
        assert_eq!(bytes, to_parquet(&whole).expect("encodes"));
    }

    #[test]
    fn a_table_without_rows_has_no_file() {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        assert!(TableBuilder::new(schema).expect("supported types").encode().expect("encodes").is_none());
    }

    #[test]
    fn a_wrong_row_is_an_error_not_a_panic() {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int32, true)]));
        let mut table = TableBuilder::new(schema).expect("supported types");
        assert!(table.push([Value::text("x")]).is_err());
        assert!(table.push([Value::Int(i64::MAX)]).is_err());
        assert!(table.push([]).is_err());
    }
}

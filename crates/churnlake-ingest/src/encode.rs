//! Arrow to Parquet bytes, with the lake's writer settings. The same batch always gives
//! the same bytes (no time or random id is written), which is what makes re-running an
//! interrupted ingest leave the lake exactly as a clean run would.
//!
//! In the chain: a leaf, used by [`crate::file`]; imports nothing of this crate.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

/// Rows per row group (about 128k).
pub(crate) const ROW_GROUP_ROWS: usize = 128 * 1024;

/// One Parquet file holding `batch`: zstd, page statistics, ~128k-row row groups.
pub(crate) fn to_parquet(batch: &RecordBatch) -> Result<Vec<u8>, ParquetError> {
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), Some(properties()))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(bytes)
}

fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

/// One Parquet file written a batch at a time, with the settings of [`to_parquet`]: the
/// batches written in turn give the bytes `to_parquet` gives for them as one batch (row
/// groups are cut at the same rows), so a table need never be in memory whole.
pub(crate) struct ParquetEncoder {
    writer: ArrowWriter<Vec<u8>>,
}

impl ParquetEncoder {
    pub fn new(schema: SchemaRef) -> Result<ParquetEncoder, ParquetError> {
        Ok(ParquetEncoder { writer: ArrowWriter::try_new(Vec::new(), schema, Some(properties()))? })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ParquetError> {
        self.writer.write(batch)
    }

    /// The file's bytes.
    pub fn finish(self) -> Result<Vec<u8>, ParquetError> {
        self.writer.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    fn batch(rows: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(0..rows))]).expect("valid batch")
    }

    #[test]
    fn a_table_written_in_row_group_sized_batches_gives_the_same_bytes() {
        let rows = 2 * ROW_GROUP_ROWS as i64 + 7;
        let whole = batch(rows);
        let mut encoder = ParquetEncoder::new(whole.schema()).expect("an encoder");
        let mut at = 0;
        while at < whole.num_rows() {
            let length = ROW_GROUP_ROWS.min(whole.num_rows() - at);
            encoder.write(&whole.slice(at, length)).expect("writes");
            at += length;
        }
        assert_eq!(encoder.finish().expect("encodes"), to_parquet(&whole).expect("encodes"));
    }

    #[test]
    fn same_batch_same_bytes_and_row_groups_of_128k() {
        let rows = ROW_GROUP_ROWS as i64 + 10;
        let bytes = to_parquet(&batch(rows)).expect("encodes");
        assert_eq!(bytes, to_parquet(&batch(rows)).expect("encodes"));
        let mut file = tempfile::tempfile().expect("a temporary file");
        file.write_all(&bytes).expect("writes");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).expect("reads");
        let groups: Vec<i64> = reader.metadata().row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(groups, [ROW_GROUP_ROWS as i64, 10]);
    }
}

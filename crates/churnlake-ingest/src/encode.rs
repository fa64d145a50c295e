//! Arrow to Parquet bytes, with the lake's writer settings. The same batch always gives
//! the same bytes (no time or random id is written), which is what makes re-running an
//! interrupted ingest leave the lake exactly as a clean run would.
//!
//! In the chain: a leaf, used by [`crate::file`]; imports nothing of this crate.

use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

/// Rows per row group (about 128k).
pub(crate) const ROW_GROUP_ROWS: usize = 128 * 1024;

/// One Parquet file holding `batch`: zstd, page statistics, ~128k-row row groups.
pub(crate) fn to_parquet(batch: &RecordBatch) -> Result<Vec<u8>, ParquetError> {
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), Some(properties))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(bytes)
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

//! `CREATE TABLE` statements with which Athena and Trino read a dataset as it is (Hive
//! partitions `event_date=YYYY-MM-DD`, Parquet), generated from the schema so that
//! `docs/other-engines.md` cannot drift from what ingest writes.

use crate::schema::{COLUMNS, ColType, PARTITION_COLUMN, resource_struct_fields};

/// The Athena DDL for a dataset at `location` (`s3://bucket/prefix/`), with partition
/// projection on `event_date`: no crawler and no `MSCK REPAIR` as days are added
/// (https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html).
pub fn athena(table: &str, location: &str) -> String {
    let location = location.trim_end_matches('/');
    let columns = column_list('`', |ty| match ty {
        ColType::Utf8 => "string".to_string(),
        ColType::Int32 => "int".to_string(),
        ColType::Bool => "boolean".to_string(),
        ColType::Timestamp => "timestamp".to_string(),
        ColType::Resources => format!(
            "array<struct<{}>>",
            resource_fields()
                .iter()
                .map(|f| format!("{f}:string"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    });
    format!(
        "CREATE EXTERNAL TABLE {table} (\n{columns}\n)\n\
         PARTITIONED BY (`{PARTITION_COLUMN}` string)\n\
         STORED AS PARQUET\n\
         LOCATION '{location}/'\n\
         TBLPROPERTIES (\n\
         \x20 'projection.enabled' = 'true',\n\
         \x20 'projection.{PARTITION_COLUMN}.type' = 'date',\n\
         \x20 'projection.{PARTITION_COLUMN}.format' = 'yyyy-MM-dd',\n\
         \x20 'projection.{PARTITION_COLUMN}.range' = '2013-11-01,NOW',\n\
         \x20 'projection.{PARTITION_COLUMN}.interval' = '1',\n\
         \x20 'projection.{PARTITION_COLUMN}.interval.unit' = 'DAYS',\n\
         \x20 'storage.location.template' = '{location}/{PARTITION_COLUMN}=${{{PARTITION_COLUMN}}}/'\n\
         );\n"
    )
}

/// The Trino DDL (Hive connector) for a dataset at `location`, and the call that
/// registers its partitions (to rerun after ingest adds days).
pub fn trino(table: &str, location: &str) -> String {
    let location = location.trim_end_matches('/');
    let columns = column_list('"', |ty| match ty {
        ColType::Utf8 => "varchar".to_string(),
        ColType::Int32 => "integer".to_string(),
        ColType::Bool => "boolean".to_string(),
        ColType::Timestamp => "timestamp(6)".to_string(),
        ColType::Resources => format!(
            "array(row({}))",
            resource_fields()
                .iter()
                .map(|f| format!("\"{f}\" varchar"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    let (schema, name) = table.rsplit_once('.').unwrap_or(("default", table));
    let schema = schema.rsplit('.').next().unwrap_or(schema);
    format!(
        "CREATE TABLE {table} (\n{columns},\n  \"{PARTITION_COLUMN}\" varchar\n)\n\
         WITH (\n\
         \x20 format = 'PARQUET',\n\
         \x20 external_location = '{location}/',\n\
         \x20 partitioned_by = ARRAY['{PARTITION_COLUMN}']\n\
         );\n\
         CALL system.sync_partition_metadata('{schema}', '{name}', 'ADD');\n"
    )
}

fn resource_fields() -> Vec<String> {
    resource_struct_fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// The columns, each name quoted with `quote` (Hive DDL: a backtick; Trino: `"`).
fn column_list(quote: char, ty: impl Fn(ColType) -> String) -> String {
    COLUMNS
        .iter()
        .map(|(name, t, _)| format!("  {quote}{name}{quote} {}", ty(*t)))
        .collect::<Vec<_>>()
        .join(",\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/other-engines.md` holds the statements this build generates. Run with
    /// `UPDATE_ENGINE_DOC=1` to rewrite them after changing the schema.
    #[test]
    fn other_engines_doc_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/other-engines.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let mut current = doc.clone();
        for (marker, ddl) in [
            ("athena", athena("cloudtrail", "s3://my-bucket/lake")),
            (
                "trino",
                trino("hive.cloudtrail.events", "s3://my-bucket/lake"),
            ),
        ] {
            let (start, end) = (
                format!("<!-- {marker}:start -->\n"),
                format!("<!-- {marker}:end -->"),
            );
            let (head, rest) = current.split_once(&start).expect("start marker");
            let (_, tail) = rest.split_once(&end).expect("end marker");
            current = format!("{head}{start}```sql\n{ddl}```\n{end}{tail}");
        }
        if std::env::var_os("UPDATE_ENGINE_DOC").is_some() {
            std::fs::write(path, &current).unwrap();
        }
        assert_eq!(
            doc, current,
            "docs/other-engines.md is stale: rerun with UPDATE_ENGINE_DOC=1"
        );
    }

    #[test]
    fn every_column_and_the_partition_are_declared() {
        let ddl = athena("t", "s3://b/p/");
        for (name, ..) in COLUMNS {
            assert!(ddl.contains(&format!("`{name}` ")), "{name}");
        }
        assert!(ddl.contains("LOCATION 's3://b/p/'"));
        assert!(ddl.contains("'storage.location.template' = 's3://b/p/event_date=${event_date}/'"));
        assert!(trino("hive.s.t", "s3://b/p").contains("sync_partition_metadata('s', 't', 'ADD')"));
    }
}

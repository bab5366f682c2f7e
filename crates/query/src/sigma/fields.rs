//! Sigma field names (CloudTrail's own JSON paths) to SQL over `events`, through the
//! schema's own field tree ([`RECORD_FIELDS`]): no second list of fields to keep.

use trailscope_ingest::schema::{COLUMNS, Col, ColType, FieldSpec, Kind, RECORD_FIELDS};

use crate::literal;

/// A SQL expression for the text of the field at `path` (`userIdentity.type`,
/// `requestParameters.bucketName`, ...), or why it cannot be reached.
///
/// A path the schema types is its column (a boolean or time as the text CloudTrail
/// writes); a path into a free-form object (`requestParameters`, ...) is a JSON access
/// into that column; a path the schema does not know is in `unmapped`, where ingest keeps
/// every field it has no column for.
pub fn field_text(path: &str) -> Result<String, String> {
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(format!("field `{path}` is not a path"));
    }
    let mut spec: &'static [FieldSpec] = RECORD_FIELDS;
    for (depth, segment) in segments.iter().enumerate() {
        let Some(field) = spec.iter().find(|f| f.key == *segment) else {
            // Not a column: ingest kept it in `unmapped`, at its path.
            return Ok(json_text("unmapped", &segments));
        };
        let rest = &segments[depth + 1..];
        match &field.kind {
            Kind::Object(inner) => {
                if rest.is_empty() {
                    return Err(format!("field `{path}` is an object, not a value"));
                }
                spec = inner;
            }
            Kind::Json(col) => {
                return Ok(if rest.is_empty() {
                    column(*col)
                } else {
                    json_text(&column(*col), rest)
                });
            }
            Kind::Str(col) | Kind::Bool(col) | Kind::BoolText(col) | Kind::Time(col) => {
                if !rest.is_empty() {
                    return Err(format!(
                        "field `{path}`: `{segment}` holds a plain value, not an object"
                    ));
                }
                return Ok(scalar_text(*col));
            }
            Kind::Resources(col) => {
                // The resources list, as JSON text (ARNs and types match inside it).
                return Ok(format!("to_json({})", column(*col)));
            }
        }
    }
    Err(format!("field `{path}` is an object, not a value"))
}

/// The text a keyword (field-less) search looks in: every text and JSON column of the
/// record (its values, free-form objects and `unmapped` included) but the input file's
/// name, joined by newlines.
pub fn record_text() -> String {
    let columns: Vec<&str> = COLUMNS
        .iter()
        .filter(|(name, ty, _)| *ty == ColType::Utf8 && *name != "source_file")
        .map(|(name, _, _)| *name)
        .collect();
    format!("concat_ws(chr(10), {})", columns.join(", "))
}

fn column(col: Col) -> String {
    COLUMNS[col as usize].0.to_string()
}

/// The column's value as CloudTrail's text: booleans `true`/`false`, times ISO 8601.
fn scalar_text(col: Col) -> String {
    let name = column(col);
    match COLUMNS[col as usize].1 {
        ColType::Bool => format!("CAST({name} AS VARCHAR)"),
        ColType::Timestamp => format!("to_char({name}, '%Y-%m-%dT%H:%M:%SZ')"),
        _ => name,
    }
}

/// `json_as_text(column, 'a', 'b')`: the value at the path as text, whatever its type.
fn json_text(column: &str, path: &[&str]) -> String {
    let keys: Vec<String> = path.iter().map(|k| literal(k)).collect();
    format!("json_as_text({column}, {})", keys.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_reach_columns_json_and_unmapped() {
        assert_eq!(field_text("eventName").unwrap(), "event_name");
        assert_eq!(
            field_text("userIdentity.sessionContext.sessionIssuer.userName").unwrap(),
            "session_issuer_user_name"
        );
        assert_eq!(
            field_text("requestParameters.bucketName").unwrap(),
            "json_as_text(request_parameters, 'bucketName')"
        );
        assert_eq!(
            field_text("responseElements.ConsoleLogin").unwrap(),
            "json_as_text(response_elements, 'ConsoleLogin')"
        );
        assert_eq!(
            field_text("someNewField.inner").unwrap(),
            "json_as_text(unmapped, 'someNewField', 'inner')"
        );
        assert_eq!(
            field_text("readOnly").unwrap(),
            "CAST(read_only AS VARCHAR)"
        );
        assert!(field_text("eventName.x").is_err());
        assert!(field_text("userIdentity").is_err());
    }
}

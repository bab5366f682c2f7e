//! trailscope's SQL functions, one file each, registered by [`register_all`].
//!
//! Every function is documented by a [`FunctionDoc`] whose example is run by the tests,
//! so the documentation cannot drift from what the function does. The JSON functions
//! (`json_get_str`, `->>`, ...) come from the datafusion-functions-json crate.

/// Defines a SQL function over string arguments: a unit-like struct that implements
/// `ScalarUDFImpl`, named by the module's `DOC`, calling `$invoke(&ScalarFunctionArgs)`.
macro_rules! string_function {
    ($ty:ident, arity = $arity:expr, returns = $returns:expr, invoke = $invoke:expr) => {
        #[doc = concat!("The SQL function `", stringify!($ty), "`; see `DOC` in this module.")]
        #[derive(Debug, PartialEq, Eq, Hash)]
        pub(super) struct $ty {
            signature: datafusion::logical_expr::Signature,
        }

        impl $ty {
            pub(super) fn new() -> Self {
                $ty {
                    signature: datafusion::logical_expr::Signature::string(
                        $arity,
                        datafusion::logical_expr::Volatility::Immutable,
                    ),
                }
            }
        }

        impl datafusion::logical_expr::ScalarUDFImpl for $ty {
            fn name(&self) -> &str {
                DOC.name
            }

            fn signature(&self) -> &datafusion::logical_expr::Signature {
                &self.signature
            }

            fn return_type(
                &self,
                _arg_types: &[arrow::datatypes::DataType],
            ) -> datafusion::error::Result<arrow::datatypes::DataType> {
                Ok($returns)
            }

            fn invoke_with_args(
                &self,
                args: datafusion::logical_expr::ScalarFunctionArgs,
            ) -> datafusion::error::Result<datafusion::logical_expr::ColumnarValue> {
                ($invoke)(&args)
            }
        }
    };
}

mod arn;
mod arn_account;
mod arn_partition;
mod arn_region;
mod arn_resource;
mod arn_role_name;
mod arn_service;
mod arn_session_name;
mod ip_in_cidr;
mod ip_network;
mod is_aws_service_source;
mod string_lists;
mod to_json;
mod user_agent_family;
mod user_agent_platform;

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BooleanArray, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{AggregateUDF, ColumnarValue, ScalarFunctionArgs, ScalarUDF};
use datafusion::prelude::SessionContext;

pub use user_agent_family::family as user_agent_family;

/// One of trailscope's SQL functions, as `\df` and the README show it.
#[derive(Debug, Clone, Copy)]
pub struct FunctionDoc {
    /// The name used in SQL.
    pub name: &'static str,
    /// How it is called, e.g. `arn_account(arn)`.
    pub usage: &'static str,
    /// What it returns, and for which inputs it returns NULL.
    pub description: &'static str,
    /// An example call (a SQL expression)...
    pub example: &'static str,
    /// ...and what it returns, as text (`NULL` for null).
    pub result: &'static str,
}

/// trailscope's own functions with their documentation.
pub fn functions() -> Vec<(ScalarUDF, FunctionDoc)> {
    vec![
        (
            ScalarUDF::from(arn_partition::ArnPartition::new()),
            arn_partition::DOC,
        ),
        (
            ScalarUDF::from(arn_service::ArnService::new()),
            arn_service::DOC,
        ),
        (
            ScalarUDF::from(arn_region::ArnRegion::new()),
            arn_region::DOC,
        ),
        (
            ScalarUDF::from(arn_account::ArnAccount::new()),
            arn_account::DOC,
        ),
        (
            ScalarUDF::from(arn_resource::ArnResource::new()),
            arn_resource::DOC,
        ),
        (
            ScalarUDF::from(arn_role_name::ArnRoleName::new()),
            arn_role_name::DOC,
        ),
        (
            ScalarUDF::from(arn_session_name::ArnSessionName::new()),
            arn_session_name::DOC,
        ),
        (
            ScalarUDF::from(ip_in_cidr::IpInCidr::new()),
            ip_in_cidr::DOC,
        ),
        (
            ScalarUDF::from(ip_network::IpNetwork::new()),
            ip_network::DOC,
        ),
        (
            ScalarUDF::from(is_aws_service_source::IsAwsServiceSource::new()),
            is_aws_service_source::DOC,
        ),
        (
            ScalarUDF::from(user_agent_family::UserAgentFamily::new()),
            user_agent_family::DOC,
        ),
        (
            ScalarUDF::from(user_agent_platform::UserAgentPlatform::new()),
            user_agent_platform::DOC,
        ),
        (ScalarUDF::from(to_json::ToJson::new()), to_json::DOC),
    ]
}

/// trailscope's own aggregate functions with their documentation.
pub fn aggregate_functions() -> Vec<(AggregateUDF, FunctionDoc)> {
    vec![
        (
            AggregateUDF::from(string_lists::StringList::ids_in_order()),
            string_lists::IDS_IN_ORDER_DOC,
        ),
        (
            AggregateUDF::from(string_lists::StringList::distinct_sorted()),
            string_lists::DISTINCT_SORTED_DOC,
        ),
    ]
}

/// Registers trailscope's functions and the JSON functions on `ctx`.
pub fn register_all(ctx: &mut SessionContext) -> Result<()> {
    for (udf, _) in functions() {
        ctx.register_udf(udf);
    }
    for (udaf, _) in aggregate_functions() {
        ctx.register_udaf(udaf);
    }
    datafusion_functions_json::register_all(ctx)
}

/// The arguments as Utf8 arrays (views and large strings are cast), and whether they
/// were all scalars (then each array has one row and the result is a scalar too).
fn utf8_arguments(args: &ScalarFunctionArgs) -> Result<(Vec<ArrayRef>, bool)> {
    let scalar = args
        .args
        .iter()
        .all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let rows = if scalar { 1 } else { args.number_rows };
    let arrays = args
        .args
        .iter()
        .map(|a| Ok(cast(&a.to_array(rows)?, &DataType::Utf8)?))
        .collect::<Result<Vec<_>>>()?;
    Ok((arrays, scalar))
}

fn finish(array: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    Ok(if scalar {
        ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?)
    } else {
        ColumnarValue::Array(array)
    })
}

/// Applies `f` to every string of the one argument; NULL in, or `None` out, is NULL.
fn map_to_string(
    args: &ScalarFunctionArgs,
    f: impl for<'a> Fn(&'a str) -> Option<&'a str>,
) -> Result<ColumnarValue> {
    let (array, scalar) = one_string_argument(args)?;
    // Written out per type: the results borrow from the input strings.
    let out: StringArray = match array.data_type() {
        DataType::Utf8View => array
            .as_string_view()
            .iter()
            .map(|v| v.and_then(&f))
            .collect(),
        DataType::Utf8 => array
            .as_string::<i32>()
            .iter()
            .map(|v| v.and_then(&f))
            .collect(),
        DataType::LargeUtf8 => array
            .as_string::<i64>()
            .iter()
            .map(|v| v.and_then(&f))
            .collect(),
        _ => {
            let utf8 = cast(&array, &DataType::Utf8)?;
            utf8.as_string::<i32>()
                .iter()
                .map(|v| v.and_then(&f))
                .collect()
        }
    };
    finish(Arc::new(out), scalar)
}

/// Applies `f` to every string of the one argument; NULL in, or `None` out, is NULL.
fn map_to_bool(
    args: &ScalarFunctionArgs,
    f: impl Fn(&str) -> Option<bool>,
) -> Result<ColumnarValue> {
    let (array, scalar) = one_string_argument(args)?;
    let out: BooleanArray = map_strings(&array, |value| value.and_then(&f))?;
    finish(Arc::new(out), scalar)
}

/// The one argument as an array (of one row when it is a scalar), and whether it was.
fn one_string_argument(args: &ScalarFunctionArgs) -> Result<(ArrayRef, bool)> {
    let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
    let rows = if scalar { 1 } else { args.number_rows };
    Ok((args.args[0].to_array(rows)?, scalar))
}

/// `f` over the strings of `array` read in place (Utf8View, Utf8, LargeUtf8: the dataset's
/// columns are views, and a cast to Utf8 would copy every string); other types are cast.
fn map_strings<T, C: FromIterator<T>>(
    array: &ArrayRef,
    f: impl FnMut(Option<&str>) -> T,
) -> Result<C> {
    Ok(match array.data_type() {
        DataType::Utf8View => array.as_string_view().iter().map(f).collect(),
        DataType::Utf8 => array.as_string::<i32>().iter().map(f).collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().map(f).collect(),
        _ => cast(array, &DataType::Utf8)?
            .as_string::<i32>()
            .iter()
            .map(f)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use arrow::util::display::{ArrayFormatter, FormatOptions};

    use super::*;

    async fn eval(ctx: &SessionContext, expr: &str) -> String {
        let batches = ctx
            .sql(&format!("SELECT {expr}"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let options = FormatOptions::default().with_null("NULL");
        let formatter = ArrayFormatter::try_new(batches[0].column(0).as_ref(), &options).unwrap();
        formatter.value(0).to_string()
    }

    #[tokio::test]
    async fn every_documented_example_returns_its_documented_result() {
        let mut ctx = SessionContext::new();
        register_all(&mut ctx).unwrap();
        let mut names = HashSet::new();
        for (udf, doc) in functions() {
            assert_eq!(udf.name(), doc.name);
            assert!(names.insert(doc.name), "{} listed twice", doc.name);
            assert_eq!(eval(&ctx, doc.example).await, doc.result, "{}", doc.example);
            // NULL in, NULL out, for every function and every argument.
            let arity = doc.usage.matches(',').count() + 1;
            let nulls = vec!["NULL"; arity].join(", ");
            assert_eq!(eval(&ctx, &format!("{}({nulls})", doc.name)).await, "NULL");
        }
    }

    #[tokio::test]
    async fn every_documented_aggregate_example_returns_its_documented_result() {
        let mut ctx = SessionContext::new();
        register_all(&mut ctx).unwrap();
        for (udaf, doc) in aggregate_functions() {
            assert_eq!(udaf.name(), doc.name);
            assert_eq!(eval(&ctx, doc.example).await, doc.result, "{}", doc.example);
        }
    }

    #[tokio::test]
    async fn aggregates_group_and_merge_partial_states() {
        let mut ctx = SessionContext::new_with_config(
            datafusion::prelude::SessionConfig::new().with_target_partitions(4),
        );
        register_all(&mut ctx).unwrap();
        // Many groups over several partitions: partial states are merged.
        let sql = "SELECT g, ids_in_order(t, id) AS ids, distinct_sorted(x) AS xs FROM ( \
                     SELECT v % 3 AS g, 100 - v AS t, CAST(v AS VARCHAR) AS id, \
                            CAST(v % 2 AS VARCHAR) AS x FROM generate_series(1, 9) AS s(v) \
                     UNION ALL SELECT 0, 5, NULL, NULL) GROUP BY g ORDER BY g";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(text.contains("| 0 | [9, 6, 3] | [0, 1] |"), "{text}");
        assert!(text.contains("| 1 | [7, 4, 1] | [0, 1] |"), "{text}");
        assert!(text.contains("| 2 | [8, 5, 2] | [0, 1] |"), "{text}");
    }

    #[tokio::test]
    async fn functions_work_on_columns_of_every_string_type() {
        let mut ctx = SessionContext::new();
        register_all(&mut ctx).unwrap();
        let sql = "SELECT arn_account(a), arn_role_name(arrow_cast(a, 'Utf8View')), \
                   arn_session_name(arrow_cast(a, 'LargeUtf8')) FROM (VALUES \
                   ('arn:aws:sts::111122223333:assumed-role/Admin/alice'), ('not an arn'), (NULL)) AS t(a)";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(text.contains("| 111122223333 "), "{text}");
        assert!(text.contains("| Admin "), "{text}");
        assert!(text.contains("| alice "), "{text}");
        let nulls = batches
            .iter()
            .map(|b| b.column(0).null_count())
            .sum::<usize>();
        assert_eq!(nulls, 2, "{text}");
    }

    #[tokio::test]
    async fn json_functions_read_request_parameters() {
        let mut ctx = SessionContext::new();
        register_all(&mut ctx).unwrap();
        let doc = r#"'{"userName":"bob","tags":[{"key":"team"}]}'"#;
        assert_eq!(
            eval(&ctx, &format!("json_get_str({doc}, 'userName')")).await,
            "bob"
        );
        assert_eq!(eval(&ctx, &format!("{doc}->>'userName'")).await, "bob");
        assert_eq!(
            eval(&ctx, &format!("json_get_str({doc}, 'tags', 0, 'key')")).await,
            "team"
        );
        assert_eq!(
            eval(&ctx, "json_get_str('not json', 'userName')").await,
            "NULL"
        );
    }
}

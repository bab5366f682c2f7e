//! The report's charts, drawn as SVG at report time with plotters (no script, no font
//! files: text is left to the browser's sans-serif).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use plotters::prelude::*;
use trailscope_query::report::{SharedIdentity, Table, integer, text};

/// Colours for series, in order (colour-blind safe: Okabe and Ito).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

const WIDTH: u32 = 920;

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart: {e}")
}

/// Seconds since the epoch of `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (UTC).
fn seconds(text: &str) -> Option<f64> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|t| t.and_utc().timestamp() as f64)
}

/// A time axis label: the date, with the time when the axis spans under three days.
fn time_label(seconds: f64, span: f64) -> String {
    let Some(t) = DateTime::from_timestamp(seconds as i64, 0) else {
        return String::new();
    };
    if span < 3.0 * 86_400.0 {
        t.format("%m-%d %H:%M").to_string()
    } else {
        t.format("%Y-%m-%d").to_string()
    }
}

/// A time range with some room on each side (an hour when all points are at one time).
fn time_range(times: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = times.fold((f64::MAX, f64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    if lo > hi {
        return None;
    }
    let pad = ((hi - lo) * 0.03).max(1800.0);
    Some((lo - pad, hi + pad))
}

/// Events per day, one line per identity type, from `activity` (day, identity_type,
/// events, errors); and errors per day as a second chart.
pub fn activity(activity: &Table) -> anyhow::Result<(String, String)> {
    let Some([d, t, e, x]) = activity.columns_of(["day", "identity_type", "events", "errors"])
    else {
        return Ok((String::new(), String::new()));
    };
    let mut by_type: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    let mut errors: BTreeMap<i64, i64> = BTreeMap::new();
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for row in &activity.rows {
        let Some(day) = seconds(&text(&row[d])) else {
            continue;
        };
        let day = day as i64;
        let kind = text(&row[t]);
        *by_type
            .entry(kind.clone())
            .or_default()
            .entry(day)
            .or_default() += integer(&row[e]);
        *totals.entry(kind).or_default() += integer(&row[e]);
        *errors.entry(day).or_default() += integer(&row[x]);
    }
    let days: Vec<i64> = errors.keys().copied().collect();
    if days.is_empty() {
        return Ok((String::new(), String::new()));
    }
    // Types by volume, so that colours and the legend follow it.
    let mut kinds: Vec<(String, i64)> = totals.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let series: Vec<(String, Vec<(f64, f64)>)> = kinds
        .iter()
        .map(|(kind, _)| {
            let counts = &by_type[kind];
            let points = days
                .iter()
                .map(|day| (*day as f64, *counts.get(day).unwrap_or(&0) as f64))
                .collect();
            (kind.clone(), points)
        })
        .collect();
    let events = lines("events per day (UTC)", &series)?;
    let error_series = vec![(
        "errors".to_string(),
        days.iter()
            .map(|day| (*day as f64, errors[day] as f64))
            .collect(),
    )];
    Ok((events, lines("errors per day (UTC)", &error_series)?))
}

/// One line per series over a time axis, with a legend.
fn lines(caption: &str, series: &[(String, Vec<(f64, f64)>)]) -> anyhow::Result<String> {
    let Some((x0, x1)) = time_range(series.iter().flat_map(|(_, p)| p.iter().map(|p| p.0))) else {
        return Ok(String::new());
    };
    let y1 = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.1))
        .fold(1.0_f64, f64::max)
        * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0.0..y1)
            .map_err(err)?;
        let span = x1 - x0;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(6)
            .label_style(("sans-serif", 12))
            .x_label_formatter(&|x| time_label(*x, span))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for (i, (name, points)) in series.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The kinds of root use on a root timeline, bottom to top.
const ROOT_ROWS: [&str; 4] = ["failed call", "call", "failed sign-in", "sign-in"];

/// One account's root uses on a timeline, from the `root-events` table: a row per kind
/// (sign-in, failed sign-in, call, failed call), a dot per event.
pub fn root_timeline(events: &Table, account: &str) -> anyhow::Result<String> {
    let Some([a, t, n, o]) = events.columns_of(["account", "event_time", "event_name", "outcome"])
    else {
        return Ok(String::new());
    };
    let points: Vec<(f64, i32)> = events
        .rows
        .iter()
        .filter(|r| text(&r[a]) == account)
        .filter_map(|r| {
            let time = seconds(&text(&r[t]))?;
            let ok = matches!(text(&r[o]).as_str(), "Success");
            let row = match (text(&r[n]) == "ConsoleLogin", ok) {
                (true, true) => 3,
                (true, false) => 2,
                (false, true) => 1,
                (false, false) => 0,
            };
            Some((time, row))
        })
        .collect();
    let labels: Vec<String> = ROOT_ROWS.iter().map(|s| s.to_string()).collect();
    categorical_timeline(&points, &labels, 200, false, |row| match row {
        0 | 2 => RGBColor(213, 94, 0),
        _ => RGBColor(0, 114, 178),
    })
}

/// A shared identity's evidence on a timeline: a row per address, a dot per event, and
/// a thin line from each event to the next, so that switching between addresses shows.
pub fn shared_timeline(identity: &SharedIdentity) -> anyhow::Result<String> {
    let points: Vec<(f64, i32)> = identity
        .events
        .iter()
        .filter_map(|e| {
            let row = identity.addresses.iter().position(|a| *a == e.address)?;
            Some((seconds(&e.time)?, row as i32))
        })
        .collect();
    let height = 90 + 26 * identity.addresses.len().min(20) as u32;
    categorical_timeline(&points, &identity.addresses, height, true, |row| {
        colour(row as usize)
    })
}

/// Dots on rows over a time axis; with `joined`, a thin grey line joins them in time
/// order.
fn categorical_timeline(
    points: &[(f64, i32)],
    labels: &[String],
    height: u32,
    joined: bool,
    colour_of: impl Fn(i32) -> RGBColor,
) -> anyhow::Result<String> {
    let Some((x0, x1)) = time_range(points.iter().map(|p| p.0)) else {
        return Ok(String::new());
    };
    let rows = labels.len() as i32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let label_width = labels
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(8)
            .clamp(8, 40) as u32
            * 7
            + 10;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(label_width)
            .build_cartesian_2d(x0..x1, -1..rows)
            .map_err(err)?;
        let span = x1 - x0;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels((rows + 1) as usize)
            .label_style(("sans-serif", 12))
            .x_label_formatter(&|x| time_label(*x, span))
            .y_label_formatter(&|y| {
                usize::try_from(*y)
                    .ok()
                    .and_then(|i| labels.get(i))
                    .cloned()
                    .unwrap_or_default()
            })
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        if joined {
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    BLACK.mix(0.2).stroke_width(1),
                ))
                .map_err(err)?;
        }
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 4, colour_of(y).filled())),
            )
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_utc_seconds() {
        assert_eq!(seconds("1970-01-02"), Some(86_400.0));
        assert_eq!(seconds("1970-01-01 00:01:00"), Some(60.0));
        assert_eq!(seconds("yesterday"), None);
    }

    #[test]
    fn an_empty_table_draws_nothing() {
        let table = Table {
            query: "activity-by-day".into(),
            columns: vec![
                "day".into(),
                "identity_type".into(),
                "events".into(),
                "errors".into(),
            ],
            rows: vec![],
        };
        assert_eq!(activity(&table).unwrap(), (String::new(), String::new()));
    }
}

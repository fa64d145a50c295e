//! `churnlake insight`: lifecycle events and orders counted or summed per period and
//! breakdown value (computed by the query crate), as a table or a chart.

use anyhow::Result;
use churnlake_query::{Grain, InsightEvent, Measure, Metrics};

use super::chart::{ChartSpec, frame_chart, kind, write_chart};
use super::filter::apply_where;
use super::{Ctx, Io, emit};
use crate::args::{GrainArg, InsightArgs, InsightEventArg, MeasureArg};
use crate::{Outcome, UserError};

pub(crate) fn grain(arg: GrainArg) -> Grain {
    match arg {
        GrainArg::Day => Grain::Day,
        GrainArg::Week => Grain::Week,
        GrainArg::Month => Grain::Month,
    }
}

pub(super) fn insight(ctx: &Ctx, io: &mut Io, args: &InsightArgs) -> Result<Outcome> {
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(UserError(format!(
            "--from {from} is after --to {to}: the period is empty (give the earlier date to --from)"
        ))
        .into());
    }
    if args.underlying && args.chart.chart.is_some() {
        return Err(UserError(
            "--underlying writes the events, one row each: it draws no chart (leave out --chart)".into(),
        )
        .into());
    }
    let event = match args.event {
        InsightEventArg::Created => InsightEvent::Created,
        InsightEventArg::Cancelled => InsightEvent::Cancelled,
        InsightEventArg::Reactivated => InsightEvent::Reactivated,
        InsightEventArg::Order => InsightEvent::Order,
    };
    let measure = match args.measure {
        MeasureArg::Count => Measure::Count,
        MeasureArg::Amount => Measure::Amount,
    };
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let metrics = &reader.metrics;
    let (first, last) = metrics.range()?;
    let (from, to) = (args.from.unwrap_or(first), args.to.unwrap_or(last));
    let mut events = metrics.insight_events(event, Some(from), Some(to))?;
    if let Some(expr) = &args.filter {
        events = apply_where(events, expr)?;
    }
    if let Some(by) = &args.by
        && events.column(by).is_err()
    {
        let names: Vec<String> = events.get_column_names().iter().map(|n| n.to_string()).collect();
        return Err(UserError(format!(
            "--by {by}: the {} events have no column `{by}`; choose one of: {}",
            event.name(),
            names.join(", ")
        ))
        .into());
    }
    if args.underlying {
        emit(ctx, &reader, &mut events, &args.output, io)?;
        return Ok(Outcome::Ok);
    }
    let grain = args.grain.map(grain);
    let mut results = Metrics::insight_results(&events, measure, args.by.as_deref(), grain, from, to)?;
    match (args.chart.chart, &args.output.out) {
        (Some(chart), Some(path)) => {
            let value = [measure.column()];
            let what = match measure {
                Measure::Count => format!("{} events", event.name()),
                Measure::Amount => format!("amount of {} events", event.name()),
            };
            let by = args.by.as_deref();
            let title = match (grain, by) {
                (Some(_), Some(by)) => format!("{what} per {} by {by}, {from}..{to}", grain_word(args.grain)),
                (Some(_), None) => format!("{what} per {}, {from}..{to}", grain_word(args.grain)),
                (None, Some(by)) => format!("{what} by {by}, {from}..{to}"),
                (None, None) => format!("{what}, {from}..{to}"),
            };
            let y_label = match measure {
                Measure::Count => "events".to_owned(),
                Measure::Amount => "amount (lake currency)".to_owned(),
            };
            let chart_model = match (grain, by) {
                (Some(_), by) => frame_chart(
                    &results,
                    ChartSpec { title, x: "period", values: &value, group: by, y_label, scale: 1.0 },
                )?,
                (None, Some(by)) => {
                    frame_chart(&results, ChartSpec { title, x: by, values: &value, group: None, y_label, scale: 1.0 })?
                }
                (None, None) => {
                    let mut total = results.clone();
                    total.with_column(polars::prelude::Column::new("event".into(), [event.name()]))?;
                    frame_chart(
                        &total,
                        ChartSpec { title, x: "event", values: &value, group: None, y_label, scale: 1.0 },
                    )?
                }
            };
            write_chart(&chart_model, kind(chart), path)?;
            super::footer(ctx, &reader, io)?;
        }
        _ => emit(ctx, &reader, &mut results, &args.output, io)?,
    }
    Ok(Outcome::Ok)
}

fn grain_word(grain: Option<GrainArg>) -> &'static str {
    match grain {
        Some(GrainArg::Week) => "week",
        Some(GrainArg::Month) => "month",
        _ => "day",
    }
}

//! The revenue commands: `revenue` (MRR, ARPU, movements), formatted here; every figure
//! comes from the query crate.

use anyhow::Result;
use churnlake_query::{Grain, MRR_FACTOR};

use super::{Ctx, Io, emit_noted};
use crate::Outcome;
use crate::UserError;
use crate::args::{GrainArg, RevenueArgs};

/// The factor's statement beside every MRR figure (a note on the message output; Parquet
/// key-value metadata `churnlake:mrr_factor`).
fn factor_note() -> String {
    format!("MRR = price × quantity × {MRR_FACTOR} ÷ frequency_days (365.25 / 12 days a month); money rounded half to even")
}

fn factor_metadata() -> Vec<(String, String)> {
    vec![
        ("churnlake:mrr_factor".into(), MRR_FACTOR.into()),
        ("churnlake:mrr_formula".into(), format!("price * quantity * {MRR_FACTOR} / frequency_days")),
    ]
}

/// `churnlake revenue`: MRR, ARPU and the MRR movements per day (week, month), optionally
/// per group of an attribute in effect on each day.
pub(super) fn revenue(ctx: &Ctx, io: &mut Io, args: &RevenueArgs) -> Result<Outcome> {
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(UserError(format!(
            "--from {from} is after --to {to}: the period is empty (give the earlier date to --from)"
        ))
        .into());
    }
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let grain = match args.grain {
        GrainArg::Day => Grain::Day,
        GrainArg::Week => Grain::Week,
        GrainArg::Month => Grain::Month,
    };
    let mut df = reader.metrics.revenue(args.from, args.to, args.by.as_deref(), grain)?;
    emit_noted(ctx, &reader, &mut df, &args.output, io, &factor_metadata(), Some(&factor_note()))?;
    Ok(Outcome::Ok)
}

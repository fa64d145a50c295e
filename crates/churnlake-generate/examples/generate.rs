//! Generates a data set and prints its summary and the time it took.
//!
//!     cargo run --release -p churnlake-generate --example generate -- OUT [demo|large|xl] [DAYS SUBS_PER_DAY]

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: generate OUT [PRESET] [DAYS SUBS_PER_DAY]")?;
    let preset: churnlake_generate::Preset = args.next().as_deref().unwrap_or("demo").parse()?;
    let mut options = preset.options(out);
    if let (Some(days), Some(subs)) = (args.next(), args.next()) {
        options.days = days.parse()?;
        options.subs_per_day = subs.parse()?;
    }
    let started = Instant::now();
    let summary = churnlake_generate::generate(&options)?;
    eprintln!("{} in {:.1} s", preset, started.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

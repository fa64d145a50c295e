use super::*;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, d).unwrap_or_default()
}

fn by_product() -> Chart {
    Chart {
        title: "Active subscriptions by product".into(),
        x_label: "date".into(),
        x: Axis::Dates((1..=5).map(day).collect()),
        y_label: "subscriptions".into(),
        series: vec![
            Series { name: "Earl Grey".into(), values: [3.0, 4.0, 4.0, 5.0, 2.0].map(Some).to_vec() },
            Series { name: "Green Tea".into(), values: vec![Some(1.0), Some(2.0), None, Some(2.0), Some(3.0)] },
        ],
        group_by: Some("product".into()),
    }
}

fn reasons() -> Chart {
    Chart {
        title: "Cancellations by reason".into(),
        x_label: "cancel_reason".into(),
        x: Axis::Categories(vec!["too expensive".into(), "moved".into(), "other".into()]),
        y_label: "cancellations".into(),
        series: vec![Series { name: "count".into(), values: [6.0, 3.0, 1.0].map(Some).to_vec() }],
        group_by: None,
    }
}

#[test]
fn svg_snapshots_are_stable() -> Result<()> {
    for kind in [Kind::Bar, Kind::Stacked, Kind::Line, Kind::Table] {
        let svg = render_svg(&by_product(), kind)?;
        assert_eq!(svg, render_svg(&by_product(), kind)?, "{kind} renders the same bytes twice");
        insta::assert_snapshot!(format!("by_product_{kind}"), svg);
    }
    insta::assert_snapshot!("reasons_pie", render_svg(&reasons(), Kind::Pie)?);
    Ok(())
}

#[test]
fn the_svg_carries_the_title_labels_legend_and_one_shape_per_value() -> Result<()> {
    let svg = render_svg(&by_product(), Kind::Bar)?;
    for text in ["Active subscriptions by product", "Earl Grey", "Green Tea", "2024-01-01", "subscriptions"] {
        assert!(svg.contains(text), "{text} is in the SVG");
    }
    // the colours of the two groups, by name, fill 5 and 4 bars (one value is missing)
    let names = vec!["Earl Grey".to_owned(), "Green Tea".to_owned()];
    let fill = |i: usize| format!("fill=\"{}\"", colour_hex(&names, i).to_uppercase());
    let count = |needle: &str| svg.matches(needle).count();
    // each colour also fills its legend square
    assert_eq!(count(&fill(0)), 5 + 1, "{svg}");
    assert_eq!(count(&fill(1)), 4 + 1);
    Ok(())
}

#[test]
fn a_group_keeps_its_colour_across_charts() {
    let a = colours(&["Earl Grey".into(), "Green Tea".into()]);
    let b = colours(&["Green Tea".into(), "Rooibos".into(), "Earl Grey".into()]);
    let c = colours(&["Earl Grey".into()]);
    assert_eq!(a[0], c[0]);
    // unless two names of one chart share a palette slot, each name has its own colour
    if palette_index("Earl Grey") != palette_index("Green Tea") {
        assert_eq!(a[0], b[2]);
        assert_eq!(a[1], b[0]);
    }
    let many: Vec<String> = (0..10).map(|i| format!("group {i}")).collect();
    let mut distinct = colours(&many);
    distinct.sort_by_key(|c| (c.0, c.1, c.2));
    distinct.dedup();
    assert_eq!(distinct.len(), 10, "ten groups, ten colours");
}

#[test]
fn kinds_that_do_not_fit_are_refused_naming_those_that_do() {
    let pie = render_svg(&by_product(), Kind::Pie).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(pie.contains("not a time series"), "{pie}");
    assert!(pie.contains("bar, stacked, line, table"), "{pie}");
    let stacked = render_svg(&reasons(), Kind::Stacked).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(stacked.contains("give --by") && stacked.contains("bar, pie, table"), "{stacked}");
    let line = render_svg(&reasons(), Kind::Line).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(line.contains("needs dates"), "{line}");
    let mut empty = reasons();
    empty.x = Axis::Categories(vec![]);
    empty.series[0].values.clear();
    assert!(matches!(render_svg(&empty, Kind::Bar), Err(ChartError::Empty(_))));
    let mut short = reasons();
    short.series[0].values.pop();
    assert!(matches!(render_svg(&short, Kind::Bar), Err(ChartError::Misaligned { .. })));
    assert!(matches!("donut".parse::<Kind>(), Err(ChartError::UnknownKind(_))));
}

#[test]
fn date_labels_are_thinned_so_that_they_never_overlap() -> Result<()> {
    let days: Vec<NaiveDate> = (0..730).filter_map(|i| day(1).checked_add_days(chrono::Days::new(i))).collect();
    let chart = Chart {
        title: "two years".into(),
        x_label: "date".into(),
        series: vec![Series { name: "active".into(), values: (0..730).map(|i| Some(f64::from(i))).collect() }],
        x: Axis::Dates(days),
        y_label: "subscriptions".into(),
        group_by: None,
    };
    let svg = render_svg(&chart, Kind::Line)?;
    // a label's text follows its tag, on the same line or the next
    let labels: usize = ["2024-", "2025-"]
        .iter()
        .map(|year| svg.matches(&format!(">{year}")).count() + svg.matches(&format!(">\n{year}")).count())
        .sum();
    // 10-character dates at 13 px need ~96 px each: at most 10 fit on a 960-px chart
    assert!((4..=10).contains(&labels), "{labels} date labels");
    Ok(())
}

#[test]
fn png_has_the_chart_size_and_is_not_blank() -> Result<()> {
    let names = vec!["Earl Grey".to_owned(), "Green Tea".to_owned()];
    let first = colours(&names)[0];
    for kind in [Kind::Bar, Kind::Line, Kind::Stacked] {
        let png = render_png(&by_product(), kind)?;
        let (width, height, pixels) = png::decode(&png).ok_or_else(|| ChartError::Draw("not a readable PNG".into()))?;
        assert_eq!((width, height), (WIDTH, HEIGHT));
        let rgb: Vec<&[u8]> = pixels.chunks(3).collect();
        let coloured = rgb.iter().filter(|p| **p == [first.0, first.1, first.2]).count();
        let dark = rgb.iter().filter(|p| p.iter().all(|v| *v < 80)).count();
        assert!(coloured > 100, "{kind}: {coloured} pixels of the first group's colour");
        assert!(dark > 500, "{kind}: {dark} dark pixels (text and axes)");
    }
    let (width, height, pixels) = render_rgb(&reasons(), Kind::Pie)?;
    assert_eq!((width, height), (WIDTH, HEIGHT));
    assert!(pixels.chunks(3).filter(|p| *p != [255, 255, 255]).count() > 10_000, "a pie is drawn");
    Ok(())
}

#[test]
fn numbers_are_grouped_by_thousands() {
    assert_eq!(format_number(1234567.0), "1,234,567");
    assert_eq!(format_number(-1234.5), "-1,234.5");
    assert_eq!(format_number(0.1234), "0.123");
    assert_eq!(format_number(12.0), "12");
    assert_eq!(format_number(999.0), "999");
}

//! Charts of the evaluations besides spectra: rank against λ (log-log, points and the fitted
//! line), loss curves per epoch (log y), a 2-D scatter (t-SNE) coloured by group, and a line
//! chart of y against a log x (classification error against labels). 800×500 PNGs, text in the
//! embedded font of [`super::plot`].

use std::path::Path;

use plotters::prelude::*;

use super::plot::{FONT_NAME, LOG_FLOOR};
use crate::error::{Error, Result};
use crate::eval::theory::{RankPoint, SlopeFit};

/// One named line or point set: `(x, y)` pairs.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

fn fail(path: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::bad_file(path, format!("cannot draw plot: {e}"))
}

/// `[lo, hi]` of positive values, widened to whole powers of ten.
fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, 0f64), |(lo, hi), v| {
        (lo.min(v.max(LOG_FLOOR)), hi.max(v))
    });
    let lo = if lo.is_finite() { lo } else { LOG_FLOOR };
    let hi = hi.max(lo);
    (
        10f64.powf(lo.log10().floor()),
        10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)),
    )
}

/// The legend box, upper right, as every lorae chart has it.
pub(crate) fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, path: &Path) -> Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .label_font((FONT_NAME, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| fail(path, &e))
}

fn check(series: &[Series], what: &'static str) -> Result<()> {
    if series.is_empty() || series.iter().all(|s| s.points.is_empty()) {
        return Err(Error::invalid(what, 0, "a chart needs at least one point"));
    }
    Ok(())
}

/// Effective rank against λ on log-log axes: the runs as points, the fitted line
/// `rank = e^intercept · λ^slope` between the smallest and the largest λ (LoRAE's Proposition 1).
pub fn rank_against_lambda(
    points: &[RankPoint],
    fit: &SlopeFit,
    caption: &str,
    path: &Path,
) -> Result<()> {
    let (lo, hi) = points.iter().fold((f64::INFINITY, 0f64), |(lo, hi), p| {
        (lo.min(p.lambda), hi.max(p.lambda))
    });
    let line = |l: f64| (l, (fit.intercept + fit.slope * l.ln()).exp());
    let series = [
        Series {
            label: "runs".into(),
            points: points.iter().map(|p| (p.lambda, p.rank as f64)).collect(),
        },
        Series {
            label: format!("fit, slope {:.2}", fit.slope),
            points: vec![line(lo), line(hi)],
        },
    ];
    let axes = Axes {
        caption,
        x: "λ",
        y: "effective rank",
        log_x: true,
        log_y: true,
    };
    line_chart(&series, &axes, &[true, false], path)
}

/// Few-label test error (%) against the number of labels (log x), one line per codes' source.
pub fn error_against_labels(series: &[Series], path: &Path) -> Result<()> {
    let axes = Axes {
        caption: "test error against labels (honest protocol)",
        x: "labelled images",
        y: "test error %",
        log_x: true,
        log_y: false,
    };
    line_chart(series, &axes, &[], path)
}

/// Training losses against the epoch (log y), one line per term.
pub fn loss_per_epoch(series: &[Series], path: &Path) -> Result<()> {
    let axes = Axes {
        caption: "training loss per epoch",
        x: "epoch",
        y: "loss",
        log_x: false,
        log_y: true,
    };
    line_chart(series, &axes, &[], path)
}

/// A line chart's caption, axis names and scales.
struct Axes<'a> {
    caption: &'a str,
    x: &'a str,
    y: &'a str,
    log_x: bool,
    log_y: bool,
}

/// Lines (or, where `points_only` says, markers) of `series` on `axes`.
fn line_chart(series: &[Series], axes: &Axes, points_only: &[bool], path: &Path) -> Result<()> {
    let Axes {
        caption,
        x: x_desc,
        y: y_desc,
        log_x,
        log_y,
    } = *axes;
    check(series, "series")?;
    super::plot::draw_png(path, |root| {
        let xs = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let ys = || series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
        let linear = |v: &mut dyn Iterator<Item = f64>| {
            let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
            let pad = ((hi - lo) * 0.05).max(1e-9);
            (lo - pad, hi + pad)
        };
        let (x0, x1) = if log_x {
            log_range(xs())
        } else {
            linear(&mut xs())
        };
        let (y0, y1) = if log_y {
            log_range(ys())
        } else {
            let (lo, hi) = linear(&mut ys());
            (lo.min(0.0), hi)
        };
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(caption, (FONT_NAME, 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70);
        // Four axis combinations are four chart types in plotters.
        macro_rules! draw {
            ($x:expr, $y:expr) => {{
                let mut chart = builder
                    .build_cartesian_2d($x, $y)
                    .map_err(|e| fail(path, &e))?;
                chart
                    .configure_mesh()
                    .x_desc(x_desc)
                    .y_desc(y_desc)
                    .label_style((FONT_NAME, 14))
                    .draw()
                    .map_err(|e| fail(path, &e))?;
                for (i, s) in series.iter().enumerate() {
                    let colour = Palette99::pick(i).to_rgba();
                    let pts = s.points.iter().map(|&(x, y)| {
                        (
                            if log_x { x.max(LOG_FLOOR) } else { x },
                            if log_y { y.max(LOG_FLOOR) } else { y },
                        )
                    });
                    let anno = if points_only.get(i).copied().unwrap_or(false) {
                        chart.draw_series(pts.map(|p| Circle::new(p, 5, colour.filled())))
                    } else {
                        chart.draw_series(LineSeries::new(pts, colour.stroke_width(2)))
                    }
                    .map_err(|e| fail(path, &e))?;
                    anno.label(s.label.clone()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                    });
                }
                legend(&mut chart, path)?;
            }};
        }
        match (log_x, log_y) {
            (true, true) => draw!((x0..x1).log_scale(), (y0..y1).log_scale()),
            (true, false) => draw!((x0..x1).log_scale(), y0..y1),
            (false, true) => draw!(x0..x1, (y0..y1).log_scale()),
            (false, false) => draw!(x0..x1, y0..y1),
        }
        Ok(())
    })
}

/// A scatter plot of 2-D points, one colour per group (a t-SNE embedding), no axes' units.
pub fn scatter(groups: &[Series], caption: &str, path: &Path) -> Result<()> {
    check(groups, "groups")?;
    super::plot::draw_png(path, |root| {
        let all = || groups.iter().flat_map(|g| g.points.iter().copied());
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for (x, y) in all() {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        let (px, py) = (((x1 - x0) * 0.05).max(1e-6), ((y1 - y0) * 0.05).max(1e-6));
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT_NAME, 22))
            .margin(15)
            .build_cartesian_2d(x0 - px..x1 + px, y0 - py..y1 + py)
            .map_err(|e| fail(path, &e))?;
        for (i, g) in groups.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            chart
                .draw_series(g.points.iter().map(|&p| Circle::new(p, 2, colour.filled())))
                .map_err(|e| fail(path, &e))?
                .label(g.label.clone())
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
        }
        legend(&mut chart, path)?;
        Ok(())
    })
}

/// Bars grouped by their first name (a model), coloured by their second (a sampler), with a
/// legend of the second names: `(group, bar, value)` triples, groups in first-seen order.
pub fn grouped_bar_chart(
    bars: &[(String, String, f64)],
    caption: &str,
    y_desc: &str,
    path: &Path,
) -> Result<()> {
    if bars.is_empty() || bars.iter().any(|b| !b.2.is_finite()) {
        return Err(Error::invalid(
            "bars",
            bars.len(),
            "a bar chart needs at least one finite value",
        ));
    }
    let mut groups: Vec<&str> = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    for (g, k, _) in bars {
        if !groups.contains(&g.as_str()) {
            groups.push(g);
        }
        if !kinds.contains(&k.as_str()) {
            kinds.push(k);
        }
    }
    super::plot::draw_png(path, |root| {
        let top = bars.iter().map(|b| b.2).fold(0.0, f64::max).max(1e-9) * 1.15;
        let n = groups.len();
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT_NAME, 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..n as f64, 0f64..top)
            .map_err(|e| fail(path, &e))?;
        // A label at each group's centre, none elsewhere.
        let label = |x: &f64| {
            let i = (x - 0.5).round();
            if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                groups[i as usize].to_string()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(2 * n + 1)
            .x_label_formatter(&label)
            .y_desc(y_desc)
            .label_style((FONT_NAME, 14))
            .draw()
            .map_err(|e| fail(path, &e))?;
        // Every bar has the width of one of the largest group's, 80% of a unit shared; a group's
        // bars are centred on it, in the order they first appear in that group.
        let most = groups
            .iter()
            .map(|g| bars.iter().filter(|b| b.0 == *g).count())
            .max()
            .unwrap_or(1);
        let width = 0.8 / most as f64;
        for (k, kind) in kinds.iter().enumerate() {
            let colour = Palette99::pick(k).to_rgba();
            let rects: Vec<Rectangle<(f64, f64)>> = groups
                .iter()
                .enumerate()
                .filter_map(|(g, group)| {
                    let members: Vec<&(String, String, f64)> =
                        bars.iter().filter(|b| b.0 == *group).collect();
                    let slot = members.iter().position(|b| b.1 == *kind)?;
                    let x0 =
                        g as f64 + 0.5 - members.len() as f64 * width / 2.0 + slot as f64 * width;
                    let value = members[slot].2;
                    Some(Rectangle::new(
                        [(x0, 0.0), (x0 + width * 0.9, value)],
                        colour.filled(),
                    ))
                })
                .collect();
            chart
                .draw_series(rects)
                .map_err(|e| fail(path, &e))?
                .label(kind.to_string())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
        }
        legend(&mut chart, path)?;
        Ok(())
    })
}

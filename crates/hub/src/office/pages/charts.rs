//! The leaders' page's drawings, as SVG written on the server (DISTRICT.md §10: any phone shows
//! them, no script): the risk map and the 30-day trend.
//!
//! Written here rather than with a charting library: the drawings are a few polygons, dots,
//! bars and `<text>` elements that the browser lays out in the page's own CJK font. `plotters`
//! measures its text itself, which needs a font backend (a font file and a rasteriser in the
//! hub) for labels the browser draws anyway; the map's shapes are a community's ring of
//! points, projected with a cosine of the latitude, and their label sits at the ring's area
//! centroid. Both are tested below on their numbers.

use std::fmt::Write as _;

use domain::risk_map::Band;

use crate::html::escape;

/// The map's width in SVG units; text is sized in the same units, so it stays legible when the
/// map is shrunk to a 390 px phone (16 units ≈ 14 px there).
const MAP_WIDTH: f64 = 400.0;
const MAP_MARGIN: f64 = 8.0;

/// A band's fill, and its text's colour on it.
pub(super) fn band_colours(band: Band) -> (&'static str, &'static str) {
    match band {
        Band::Calm => ("#dcefd9", "#111"),
        Band::Low => ("#fde9a4", "#111"),
        Band::Medium => ("#f59f4c", "#111"),
        Band::High => ("#c4221a", "#fff"),
    }
}

/// A legend's colour sample as a tiny SVG (the pages' CSP allows no inline style, and the
/// colours stay written once, here).
pub(super) fn swatch(colour: &str, round: bool) -> String {
    let shape = if round {
        format!("<circle cx=\"5\" cy=\"5\" r=\"4.5\" fill=\"{colour}\" stroke=\"#fff\"/>")
    } else {
        format!("<rect width=\"10\" height=\"10\" fill=\"{colour}\"/>")
    };
    format!("<svg class=\"swatch\" viewBox=\"0 0 10 10\" aria-hidden=\"true\">{shape}</svg>")
}

/// A station's dot on the map.
pub(super) struct Dot<'a> {
    pub(super) at: (f64, f64),
    pub(super) colour: &'static str,
    pub(super) title: &'a str,
}

/// A community's shape on the map.
pub(super) struct Shape<'a> {
    pub(super) ring: &'a [(f64, f64)],
    pub(super) band: Band,
    pub(super) label: &'a str,
    pub(super) score: u32,
    pub(super) href: String,
}

/// Longitude and latitude to map units: an equirectangular projection at the map's middle
/// latitude (north up), fitted to [`MAP_WIDTH`].
struct Projection {
    west: f64,
    north: f64,
    scale: f64,
    squeeze: f64,
    height: f64,
}

impl Projection {
    fn fit<'a>(points: impl Iterator<Item = &'a (f64, f64)>) -> Option<Projection> {
        let (mut west, mut east, mut south, mut north) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (lon, lat) in points {
            west = west.min(*lon);
            east = east.max(*lon);
            south = south.min(*lat);
            north = north.max(*lat);
        }
        if west > east {
            return None;
        }
        let squeeze = ((south + north) / 2.0).to_radians().cos();
        let span_x = ((east - west) * squeeze).max(1e-9);
        let span_y = (north - south).max(1e-9);
        let scale = (MAP_WIDTH - 2.0 * MAP_MARGIN) / span_x;
        Some(Projection {
            west,
            north,
            scale,
            squeeze,
            height: span_y * scale + 2.0 * MAP_MARGIN,
        })
    }

    fn xy(&self, (lon, lat): (f64, f64)) -> (f64, f64) {
        (
            MAP_MARGIN + (lon - self.west) * self.squeeze * self.scale,
            MAP_MARGIN + (self.north - lat) * self.scale,
        )
    }
}

/// The area centroid of a closed ring (the mean of its points when its area is nil).
pub(super) fn centroid(ring: &[(f64, f64)]) -> (f64, f64) {
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for w in ring.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        let cross = x0 * y1 - x1 * y0;
        a += cross;
        cx += (x0 + x1) * cross;
        cy += (y0 + y1) * cross;
    }
    if a.abs() < 1e-12 {
        let n = ring.len().max(1) as f64;
        return (
            ring.iter().map(|p| p.0).sum::<f64>() / n,
            ring.iter().map(|p| p.1).sum::<f64>() / n,
        );
    }
    (cx / (3.0 * a), cy / (3.0 * a))
}

/// The risk map: each community's shape in its band's colour with its name and score, each
/// shape a link to its open cases; the stations as dots. `title` names the drawing for a
/// screen reader. Empty when the district drew no shapes.
pub(super) fn risk_map(title: &str, shapes: &[Shape<'_>], dots: &[Dot<'_>]) -> String {
    let points = shapes
        .iter()
        .flat_map(|s| s.ring.iter())
        .chain(dots.iter().map(|d| &d.at));
    let Some(p) = Projection::fit(points) else {
        return String::new();
    };
    let mut svg = format!(
        "<svg class=\"map\" viewBox=\"0 0 {MAP_WIDTH} {:.0}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n",
        p.height,
        escape(title)
    );
    // The shapes, then the stations' dots, then the names and scores on top, each with a halo
    // of its shape's colour so a dot never hides a letter.
    for s in shapes {
        let (fill, _) = band_colours(s.band);
        let path: Vec<String> = s
            .ring
            .iter()
            .map(|pt| {
                let (x, y) = p.xy(*pt);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = writeln!(
            svg,
            "<a href=\"{}\"><polygon points=\"{}\" fill=\"{fill}\" stroke=\"#fff\" stroke-width=\"3\"/></a>",
            escape(&s.href),
            path.join(" ")
        );
    }
    for d in dots {
        let (x, y) = p.xy(d.at);
        let _ = writeln!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"2\"><title>{}</title></circle>",
            d.colour,
            escape(d.title)
        );
    }
    for s in shapes {
        let (fill, ink) = band_colours(s.band);
        let (cx, cy) = p.xy(centroid(s.ring));
        let _ = writeln!(
            svg,
            "<a href=\"{}\"><g text-anchor=\"middle\" fill=\"{ink}\" stroke=\"{fill}\" stroke-width=\"5\" paint-order=\"stroke\" stroke-linejoin=\"round\">\
             <text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"20\" font-weight=\"700\">{}</text>\
             <text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"26\" font-weight=\"800\">{}</text></g></a>",
            escape(&s.href),
            cy - 6.0,
            escape(s.label),
            cy + 22.0,
            s.score
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The trend: a bar a day, stacked by service in `colours`' order, the day's total over each
/// week's first bar, a date under every 5th day.
pub(super) fn trend(
    title: &str,
    days: &[String],
    series: &[(&str, &'static str, &[u32])],
) -> String {
    const W: f64 = 600.0;
    const H: f64 = 230.0;
    const LEFT: f64 = 34.0;
    const RIGHT: f64 = 22.0;
    const BOTTOM: f64 = 28.0;
    const TOP: f64 = 10.0;
    let totals: Vec<u32> = (0..days.len())
        .map(|i| {
            series
                .iter()
                .map(|(_, _, v)| v.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let top = nice_ceiling(totals.iter().copied().max().unwrap_or(0));
    let plot_h = H - BOTTOM - TOP;
    let step = (W - LEFT - RIGHT) / days.len().max(1) as f64;
    let bar = (step * 0.78).max(1.0);
    let y = |v: f64| TOP + plot_h - v / f64::from(top) * plot_h;
    let mut svg = format!(
        "<svg class=\"trend\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n",
        escape(title)
    );
    // The scale: nothing, half and the top, as lines behind the bars.
    for v in [0, top / 2, top] {
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#c8c8c2\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"14\" fill=\"#3d3d3d\">{v}</text>",
            W - RIGHT,
            LEFT - 4.0,
            y(f64::from(v)) + 5.0,
            y = y(f64::from(v))
        );
    }
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + step * i as f64 + (step - bar) / 2.0;
        let mut base = 0.0;
        for (name, colour, values) in series {
            let v = f64::from(values.get(i).copied().unwrap_or(0));
            if v > 0.0 {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{} {}: {v}</title></rect>",
                    y(base + v),
                    y(base) - y(base + v),
                    escape(day),
                    escape(name)
                );
            }
            base += v;
        }
        if i % 5 == (days.len().saturating_sub(1)) % 5 {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"14\" fill=\"#3d3d3d\">{}</text>",
                x + bar / 2.0,
                H - 8.0,
                escape(day)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// A round number at or above `n` for a chart's top (at least 5): 5, 10, 20, 50, 100…
fn nice_ceiling(n: u32) -> u32 {
    let n = n.max(5);
    let mut unit = 1u32;
    loop {
        for m in [1, 2, 5] {
            let top = unit.saturating_mul(m);
            if top >= n {
                return top;
            }
        }
        unit = unit.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_squares_centroid_is_its_middle_whichever_way_round() {
        let square = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)];
        assert_eq!(centroid(&square), (1.0, 1.0));
        let mut back = square;
        back.reverse();
        assert_eq!(centroid(&back), (1.0, 1.0));
        // An L: its centroid leans to its heavy corner.
        let l = [
            (0.0, 0.0),
            (3.0, 0.0),
            (3.0, 1.0),
            (1.0, 1.0),
            (1.0, 3.0),
            (0.0, 3.0),
            (0.0, 0.0),
        ];
        let (x, y) = centroid(&l);
        assert!((x - 1.1).abs() < 1e-9 && (y - 1.1).abs() < 1e-9, "{x} {y}");
    }

    #[test]
    fn the_projection_keeps_north_up_and_the_map_width() {
        let pts = [(113.90, 22.54), (113.94, 22.58)];
        let p = Projection::fit(pts.iter()).unwrap();
        let (x0, y0) = p.xy(pts[0]);
        let (x1, y1) = p.xy(pts[1]);
        assert!((x0 - MAP_MARGIN).abs() < 1e-9);
        assert!((x1 - (MAP_WIDTH - MAP_MARGIN)).abs() < 1e-9);
        assert!(y1 < y0, "north is up");
        // A degree of longitude is shorter than one of latitude at 22.5°N.
        assert!((y0 - y1) > (x1 - x0) * 0.9);
    }

    #[test]
    fn the_map_draws_each_shape_with_its_bands_colour_and_links_it() {
        let ring = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)];
        let svg = risk_map(
            "地图",
            &[Shape {
                ring: &ring,
                band: Band::High,
                label: "光明北社区",
                score: 42,
                href: "/list?community=gm-north&state=open".into(),
            }],
            &[Dot {
                at: (0.5, 0.5),
                colour: "#c01c28",
                title: "站 <1>",
            }],
        );
        assert!(svg.contains(band_colours(Band::High).0));
        assert!(svg.contains(">42<") && svg.contains("光明北社区"));
        assert!(svg.contains("href=\"/list?community=gm-north&amp;state=open\""));
        assert!(svg.contains("站 &lt;1&gt;"), "titles are escaped");
        assert_eq!(risk_map("x", &[], &[]), "");
    }

    #[test]
    fn chart_tops_are_round() {
        assert_eq!(nice_ceiling(0), 5);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(13), 20);
        assert_eq!(nice_ceiling(41), 50);
        assert_eq!(nice_ceiling(120), 200);
    }

    #[test]
    fn the_trend_stacks_each_days_services_to_its_total() {
        let days: Vec<String> = (1..=3).map(|d| format!("06-0{d}")).collect();
        let svg = trend(
            "趋势",
            &days,
            &[
                ("投诉", "#111111", &[1, 0, 2]),
                ("调解", "#222222", &[3, 0, 0]),
            ],
        );
        assert_eq!(svg.matches("<rect").count(), 3, "empty parts are not drawn");
        assert!(svg.contains("06-01 投诉: 1") && svg.contains("06-01 调解: 3"));
    }
}

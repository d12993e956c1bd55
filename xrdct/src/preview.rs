//! PNG previews a user opens first: the mean pattern with the strongest peaks marked, the
//! sinogram and tomogram of each of those peaks, and the tomogram of the summed intensity.
//!
//! Plots have labelled axes and a colour bar (viridis), drawn with a tiny built-in 5×7
//! bitmap font, so nothing depends on system fonts.

use std::path::{Path, PathBuf};

use xrdct_pipeline::nexus::recon::SinogramData;
use xrdct_pipeline::tomo::fbp::Tomogram;

/// Errors writing previews.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreviewError {
    /// The folder or file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// File or folder.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// The PNG encoder failed.
    #[error("{path}: {source}")]
    Png {
        /// File.
        path: PathBuf,
        /// Encoder error.
        source: png::EncodingError,
    },
}

/// An RGB image being drawn.
#[derive(Clone, Debug)]
pub struct Canvas {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

/// A colour.
pub type Rgb = [u8; 3];
const BLACK: Rgb = [0, 0, 0];
const RED: Rgb = [214, 39, 40];
const BLUE: Rgb = [31, 119, 180];

impl Canvas {
    /// A white canvas.
    pub fn new(width: usize, height: usize) -> Self {
        Canvas {
            width,
            height,
            rgb: vec![255; width * height * 3],
        }
    }
    /// Pixel colour (for tests).
    #[cfg(test)]
    pub fn pixel(&self, x: usize, y: usize) -> Rgb {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
    /// Sets a pixel; outside the canvas nothing happens.
    pub fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            let i = (y as usize * self.width + x as usize) * 3;
            self.rgb[i..i + 3].copy_from_slice(&c);
        }
    }
    /// Fills a rectangle.
    pub fn fill(&mut self, x: i64, y: i64, w: i64, h: i64, c: Rgb) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy, c);
            }
        }
    }
    /// A straight line (Bresenham).
    pub fn line(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: Rgb) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.set(x, y, c);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }
    /// Text with the 5×7 font at integer `scale`, top-left at (x, y). Lower case is drawn
    /// as upper case; unknown characters as a blank.
    pub fn text(&mut self, x: i64, y: i64, s: &str, scale: i64, c: Rgb) {
        for (k, ch) in s.chars().enumerate() {
            let g = glyph(ch);
            let ox = x + k as i64 * 6 * scale;
            for (row, bits) in g.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        self.fill(ox + col * scale, y + row as i64 * scale, scale, scale, c);
                    }
                }
            }
        }
    }
    /// Width in pixels of `s` drawn at `scale`.
    pub fn text_width(s: &str, scale: i64) -> i64 {
        (s.chars().count() as i64 * 6 - 1).max(0) * scale
    }
    /// Text rotated by 90° (reading upwards), for vertical axis labels.
    pub fn text_vertical(&mut self, x: i64, y_bottom: i64, s: &str, scale: i64, c: Rgb) {
        for (k, ch) in s.chars().enumerate() {
            let g = glyph(ch);
            let oy = y_bottom - k as i64 * 6 * scale;
            for (row, bits) in g.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        self.fill(x + row as i64 * scale, oy - col * scale, scale, scale, c);
                    }
                }
            }
        }
    }
    /// Encodes as PNG into `path` (written under a temporary name, then renamed).
    pub fn save(&self, path: &Path) -> Result<(), PreviewError> {
        let tmp = xrdct_pipeline::output::partial_path(path);
        let io = |source| PreviewError::Io {
            path: tmp.clone(),
            source,
        };
        let file = std::fs::File::create(&tmp).map_err(io)?;
        let w = std::io::BufWriter::new(file);
        let mut enc = png::Encoder::new(w, self.width as u32, self.height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let res = enc
            .write_header()
            .and_then(|mut wr| wr.write_image_data(&self.rgb));
        if let Err(source) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(PreviewError::Png {
                path: path.into(),
                source,
            });
        }
        std::fs::rename(&tmp, path).map_err(|source| PreviewError::Io {
            path: path.into(),
            source,
        })
    }
}

/// Viridis colour map at `t` in [0, 1] (9 control points, linear in between).
pub fn viridis(t: f64) -> Rgb {
    const P: [[f64; 3]; 9] = [
        [68.0, 1.0, 84.0],
        [71.0, 44.0, 122.0],
        [59.0, 81.0, 139.0],
        [44.0, 113.0, 142.0],
        [33.0, 144.0, 141.0],
        [39.0, 173.0, 129.0],
        [92.0, 200.0, 99.0],
        [170.0, 220.0, 50.0],
        [253.0, 231.0, 37.0],
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * 8.0;
    let k = (x.floor() as usize).min(7);
    let f = x - k as f64;
    let mut c = [0u8; 3];
    for i in 0..3 {
        c[i] = (P[k][i] * (1.0 - f) + P[k + 1][i] * f).round() as u8;
    }
    c
}

/// Short number label: 3 significant digits, exponent form when large or small.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "NAN".into();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-2..1e5).contains(&a) {
        format!("{v:.2e}").to_uppercase()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Robust display range: 0.5 and 99.5 percentiles of the finite values.
fn display_range(values: &[f32]) -> (f64, f64) {
    let mut v: Vec<f32> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (0.0, 1.0);
    }
    v.sort_by(f32::total_cmp);
    let lo = v[(v.len() - 1) * 5 / 1000] as f64;
    let hi = v[(v.len() - 1) * 995 / 1000] as f64;
    if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
}

/// A map plot: `rows × cols` values, axes labels and ranges, title, colour bar.
pub struct MapPlot<'a> {
    /// Row-major values.
    pub values: &'a [f32],
    /// Rows (vertical, top to bottom).
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Title above the plot.
    pub title: &'a str,
    /// Horizontal axis label and (first, last) values.
    pub x_label: &'a str,
    /// Horizontal axis range.
    pub x_range: (f64, f64),
    /// Vertical axis label.
    pub y_label: &'a str,
    /// Vertical axis range (top, bottom).
    pub y_range: (f64, f64),
    /// Colour bar label.
    pub c_label: &'a str,
}

/// Draws a [`MapPlot`].
pub fn draw_map(p: &MapPlot<'_>) -> Canvas {
    let target = 360usize;
    let sx = (target / p.cols.max(1)).max(1);
    let sy = (target / p.rows.max(1)).max(1);
    let (pw, ph) = ((p.cols * sx) as i64, (p.rows * sy) as i64);
    let (left, top, right, bottom) = (70i64, 30i64, 110i64, 50i64);
    let mut c = Canvas::new((left + pw + right) as usize, (top + ph + bottom) as usize);
    let (lo, hi) = display_range(p.values);
    for r in 0..p.rows {
        for col in 0..p.cols {
            let v = p.values[r * p.cols + col] as f64;
            let rgb = viridis((v - lo) / (hi - lo));
            c.fill(
                left + (col * sx) as i64,
                top + (r * sy) as i64,
                sx as i64,
                sy as i64,
                rgb,
            );
        }
    }
    frame(&mut c, left, top, pw, ph);
    c.text(left, 8, p.title, 2, BLACK);
    // x ticks: first, middle, last
    for (frac, v) in ticks(p.x_range) {
        let x = left + (frac * (pw - 1) as f64) as i64;
        c.line(x, top + ph, x, top + ph + 4, BLACK);
        let s = fmt_num(v);
        c.text(
            x - Canvas::text_width(&s, 1) / 2,
            top + ph + 7,
            &s,
            1,
            BLACK,
        );
    }
    c.text(
        left + pw / 2 - Canvas::text_width(p.x_label, 1) / 2,
        top + ph + 24,
        p.x_label,
        1,
        BLACK,
    );
    for (frac, v) in ticks(p.y_range) {
        let y = top + (frac * (ph - 1) as f64) as i64;
        c.line(left - 4, y, left, y, BLACK);
        let s = fmt_num(v);
        c.text(left - 7 - Canvas::text_width(&s, 1), y - 3, &s, 1, BLACK);
    }
    c.text_vertical(
        8,
        top + ph / 2 + Canvas::text_width(p.y_label, 1) / 2,
        p.y_label,
        1,
        BLACK,
    );
    colour_bar(&mut c, left + pw + 15, top, ph, (lo, hi), p.c_label);
    c
}

fn ticks(range: (f64, f64)) -> [(f64, f64); 3] {
    [
        (0.0, range.0),
        (0.5, (range.0 + range.1) / 2.0),
        (1.0, range.1),
    ]
}

fn frame(c: &mut Canvas, x: i64, y: i64, w: i64, h: i64) {
    c.line(x - 1, y - 1, x + w, y - 1, BLACK);
    c.line(x - 1, y + h, x + w, y + h, BLACK);
    c.line(x - 1, y - 1, x - 1, y + h, BLACK);
    c.line(x + w, y - 1, x + w, y + h, BLACK);
}

fn colour_bar(c: &mut Canvas, x: i64, top: i64, h: i64, (lo, hi): (f64, f64), label: &str) {
    for yy in 0..h {
        let t = 1.0 - yy as f64 / (h - 1).max(1) as f64;
        c.fill(x, top + yy, 16, 1, viridis(t));
    }
    frame(c, x, top, 16, h);
    for (frac, v) in [(0.0, hi), (0.5, (lo + hi) / 2.0), (1.0, lo)] {
        let y = top + (frac * (h - 1) as f64) as i64;
        c.line(x + 16, y, x + 20, y, BLACK);
        c.text(x + 23, y - 3, &fmt_num(v), 1, BLACK);
    }
    c.text_vertical(
        x + 80,
        top + h / 2 + Canvas::text_width(label, 1) / 2,
        label,
        1,
        BLACK,
    );
}

/// A line plot of `y` against `x` with vertical markers at `marks` (indices), labelled.
pub fn draw_pattern(
    x: &[f64],
    y: &[f64],
    marks: &[usize],
    title: &str,
    x_label: &str,
    y_label: &str,
) -> Canvas {
    let (pw, ph) = (640i64, 300i64);
    let (left, top, right, bottom) = (80i64, 30i64, 20i64, 50i64);
    let mut c = Canvas::new((left + pw + right) as usize, (top + ph + bottom) as usize);
    let n = x.len().min(y.len());
    let finite = |v: &f64| v.is_finite();
    let (x0, x1) = (
        x.first().copied().unwrap_or(0.0),
        x.get(n.wrapping_sub(1)).copied().unwrap_or(1.0),
    );
    let (x0, x1) = if x1 > x0 { (x0, x1) } else { (x0, x0 + 1.0) };
    let ymin = y
        .iter()
        .copied()
        .filter(finite)
        .fold(f64::INFINITY, f64::min);
    let ymax = y
        .iter()
        .copied()
        .filter(finite)
        .fold(f64::NEG_INFINITY, f64::max);
    let (ymin, ymax) = if ymax > ymin {
        (ymin, ymax)
    } else {
        (0.0, 1.0)
    };
    let px = |v: f64| left + ((v - x0) / (x1 - x0) * (pw - 1) as f64) as i64;
    let py = |v: f64| top + ph - 1 - ((v - ymin) / (ymax - ymin) * (ph - 1) as f64) as i64;
    for (k, &m) in marks.iter().enumerate() {
        if m < n {
            let xx = px(x[m]);
            for yy in (top..top + ph).step_by(3) {
                c.set(xx, yy, RED);
            }
            c.text(
                xx + 3,
                top + 3 + 10 * k as i64,
                &format!("{}", k + 1),
                1,
                RED,
            );
        }
    }
    let mut prev: Option<(i64, i64)> = None;
    for i in 0..n {
        if !y[i].is_finite() {
            prev = None;
            continue;
        }
        let p = (px(x[i]), py(y[i]));
        if let Some(q) = prev {
            c.line(q.0, q.1, p.0, p.1, BLUE);
        }
        prev = Some(p);
    }
    frame(&mut c, left, top, pw, ph);
    c.text(left, 8, title, 2, BLACK);
    for (frac, v) in ticks((x0, x1)) {
        let xx = left + (frac * (pw - 1) as f64) as i64;
        c.line(xx, top + ph, xx, top + ph + 4, BLACK);
        let s = fmt_num(v);
        c.text(
            xx - Canvas::text_width(&s, 1) / 2,
            top + ph + 7,
            &s,
            1,
            BLACK,
        );
    }
    c.text(
        left + pw / 2 - Canvas::text_width(x_label, 1) / 2,
        top + ph + 24,
        x_label,
        1,
        BLACK,
    );
    for (frac, v) in ticks((ymax, ymin)) {
        let yy = top + (frac * (ph - 1) as f64) as i64;
        c.line(left - 4, yy, left, yy, BLACK);
        let s = fmt_num(v);
        c.text(left - 7 - Canvas::text_width(&s, 1), yy - 3, &s, 1, BLACK);
    }
    c.text_vertical(
        8,
        top + ph / 2 + Canvas::text_width(y_label, 1) / 2,
        y_label,
        1,
        BLACK,
    );
    c
}

/// The `n` strongest peaks of a pattern: local maxima ranked by height above a running
/// minimum (window of 1/20 of the pattern), at least 3 bins apart.
pub fn strongest_peaks(pattern: &[f64], n: usize) -> Vec<usize> {
    let len = pattern.len();
    if len == 0 {
        return Vec::new();
    }
    let w = (len / 20).max(2);
    let mut cand: Vec<(f64, usize)> = Vec::new();
    for i in 0..len {
        let v = pattern[i];
        if !v.is_finite() {
            continue;
        }
        let l = pattern[i.saturating_sub(1)];
        let r = pattern[(i + 1).min(len - 1)];
        if v < l || v < r {
            continue;
        }
        let lo = pattern[i.saturating_sub(w)..(i + w + 1).min(len)]
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(f64::INFINITY, f64::min);
        cand.push((v - lo, i));
    }
    cand.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<usize> = Vec::new();
    for (_, i) in cand {
        if out.iter().all(|&o| o.abs_diff(i) >= 3) {
            out.push(i);
            if out.len() == n {
                break;
            }
        }
    }
    out
}

/// Writes the previews into `dir` (created if needed): `mean_pattern.png`,
/// `sinogram_peak{k}.png`, `tomogram_peak{k}.png` for the `peaks` strongest peaks, and
/// `tomogram_sum.png`. Returns the files written.
pub fn write_previews(
    dir: &Path,
    sino: &SinogramData,
    tomo: &Tomogram,
    peaks: usize,
) -> Result<Vec<PathBuf>, PreviewError> {
    std::fs::create_dir_all(dir).map_err(|source| PreviewError::Io {
        path: dir.into(),
        source,
    })?;
    let bins = sino.bins.min(tomo.bins);
    let frames = (sino.rotations * sino.translations).max(1);
    let mut mean = vec![0f64; bins];
    for p in sino.data.chunks_exact(sino.bins.max(1)) {
        for (m, &v) in mean.iter_mut().zip(p) {
            *m += v as f64 / frames as f64;
        }
    }
    let (radial, unit) = match &sino.radial {
        Some((r, u)) if r.len() >= bins => (r[..bins].to_vec(), u.clone()),
        _ => ((0..bins).map(|b| b as f64).collect(), "bin".to_string()),
    };
    let x_label = radial_label(&unit);
    let marks = strongest_peaks(&mean, peaks);
    let mut written = Vec::new();
    let mut save = |c: Canvas, name: &str| -> Result<(), PreviewError> {
        let p = dir.join(name);
        c.save(&p)?;
        written.push(p);
        Ok(())
    };
    save(
        draw_pattern(
            &radial,
            &mean,
            &marks,
            "MEAN PATTERN",
            &x_label,
            "INTENSITY",
        ),
        "mean_pattern.png",
    )?;
    let n = tomo.size;
    let half = (n / 2) as f64;
    let (a0, a1) = (
        sino.angles_deg.first().copied().unwrap_or(0.0),
        sino.angles_deg.last().copied().unwrap_or(0.0),
    );
    let (t0, t1) = (
        sino.translation.first().copied().unwrap_or(0.0),
        sino.translation.last().copied().unwrap_or(0.0),
    );
    for (k, &b) in marks.iter().enumerate() {
        let s: Vec<f32> = sino.data.chunks_exact(sino.bins).map(|p| p[b]).collect();
        let title = format!(
            "SINOGRAM PEAK {} ({} {})",
            k + 1,
            fmt_num(radial[b]),
            short_unit(&unit)
        );
        save(
            draw_map(&MapPlot {
                values: &s,
                rows: sino.rotations,
                cols: sino.translations,
                title: &title,
                x_label: "TRANSLATION",
                x_range: (t0, t1),
                y_label: "ROTATION (DEG)",
                y_range: (a0, a1),
                c_label: "INTENSITY",
            }),
            &format!("sinogram_peak{}.png", k + 1),
        )?;
        let title = format!(
            "TOMOGRAM PEAK {} ({} {})",
            k + 1,
            fmt_num(radial[b]),
            short_unit(&unit)
        );
        save(
            draw_map(&MapPlot {
                values: tomo.slice(b),
                rows: n,
                cols: n,
                title: &title,
                x_label: "X (STEPS)",
                x_range: (-half, n as f64 - 1.0 - half),
                y_label: "Y (STEPS)",
                y_range: (-half, n as f64 - 1.0 - half),
                c_label: "INTENSITY",
            }),
            &format!("tomogram_peak{}.png", k + 1),
        )?;
    }
    let mut sum = vec![0f32; n * n];
    for b in 0..bins {
        for (s, &v) in sum.iter_mut().zip(tomo.slice(b)) {
            *s += v;
        }
    }
    save(
        draw_map(&MapPlot {
            values: &sum,
            rows: n,
            cols: n,
            title: "TOMOGRAM SUMMED INTENSITY",
            x_label: "X (STEPS)",
            x_range: (-half, n as f64 - 1.0 - half),
            y_label: "Y (STEPS)",
            y_range: (-half, n as f64 - 1.0 - half),
            c_label: "INTENSITY",
        }),
        "tomogram_sum.png",
    )?;
    Ok(written)
}

fn radial_label(unit: &str) -> String {
    match unit {
        "2th_deg" => "2THETA (DEG)".into(),
        "2th_rad" => "2THETA (RAD)".into(),
        "q_nm^-1" => "Q (1/NM)".into(),
        "q_A^-1" => "Q (1/A)".into(),
        "r_mm" => "R (MM)".into(),
        "bin" | "" => "BIN".into(),
        u => u.to_uppercase(),
    }
}

fn short_unit(unit: &str) -> &str {
    match unit {
        "2th_deg" => "DEG",
        "q_nm^-1" => "1/NM",
        "q_A^-1" => "1/A",
        "r_mm" => "MM",
        _ => "",
    }
}

/// The 5×7 glyph of `ch` (rows top to bottom, bit 4 = leftmost column).
fn glyph(ch: char) -> [u8; 7] {
    match ch.to_ascii_uppercase() {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '.' => [0, 0, 0, 0, 0, 0x0C, 0x0C],
        ',' => [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        '-' => [0, 0, 0, 0x1F, 0, 0, 0],
        '+' => [0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0],
        ':' => [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '/' => [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0],
        '=' => [0, 0, 0x1F, 0, 0x1F, 0, 0],
        '_' => [0, 0, 0, 0, 0, 0, 0x1F],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '^' => [0x04, 0x0A, 0x11, 0, 0, 0, 0],
        _ => [0; 7],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_strongest_peaks() {
        let mut p: Vec<f64> = (0..200).map(|i| 10.0 - i as f64 * 0.02).collect();
        for (c, h) in [(40usize, 5.0), (120, 9.0), (170, 2.0)] {
            for (i, v) in p.iter_mut().enumerate() {
                *v += h * (-((i as f64 - c as f64).powi(2)) / 4.0).exp();
            }
        }
        assert_eq!(strongest_peaks(&p, 2), vec![120, 40]);
        assert_eq!(strongest_peaks(&p, 3), vec![120, 40, 170]);
        assert!(strongest_peaks(&[], 3).is_empty());
    }

    #[test]
    fn draws_text_and_colours() {
        let mut c = Canvas::new(40, 10);
        c.text(0, 0, "T1", 1, BLACK);
        assert_eq!(c.pixel(2, 0), BLACK); // top bar of T
        assert_eq!(c.pixel(2, 6), BLACK); // stem of T
        assert_eq!(c.pixel(0, 6), [255, 255, 255]);
        assert_eq!(viridis(0.0), [68, 1, 84]);
        assert_eq!(viridis(1.0), [253, 231, 37]);
        assert_eq!(viridis(f64::NAN), [68, 1, 84]);
        assert_eq!(fmt_num(1234567.0), "1.23E6");
        assert_eq!(fmt_num(12.34), "12.3");
    }

    #[test]
    fn writes_previews() {
        let dir = tempfile::tempdir().unwrap();
        let bins = 30;
        let mut data = vec![0f32; 4 * 5 * bins];
        for (i, v) in data.iter_mut().enumerate() {
            let b = i % bins;
            *v = 1.0 + if b == 10 { 5.0 } else { 0.0 } + if b == 20 { 3.0 } else { 0.0 };
        }
        let sino = SinogramData {
            data,
            rotations: 4,
            translations: 5,
            bins,
            angles_deg: vec![0.0, 45.0, 90.0, 135.0],
            translation: (0..5).map(|v| v as f64).collect(),
            radial: None,
            filled: vec![false; 20],
        };
        let tomo = Tomogram {
            data: vec![0.5; bins * 25],
            bins,
            size: 5,
            center: 2.0,
        };
        let files = write_previews(dir.path(), &sino, &tomo, 2).unwrap();
        assert_eq!(files.len(), 6);
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            assert_eq!(&bytes[1..4], b"PNG");
        }
    }
}

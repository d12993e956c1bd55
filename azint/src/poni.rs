//! PONI files, as pyFAI reads and writes them.
//!
//! Versions:
//! * 1: one `key: value` per line (`#` starts a comment, the last occurrence of a key wins),
//!   keys `Distance`, `Poni1`, `Poni2`, `Rot1..3`, `Wavelength`, optionally `Detector`,
//!   `PixelSize1`, `PixelSize2`, `SplineFile`;
//! * 2: `poni_version`, `Detector` and `Detector_config` (JSON);
//! * 2.1: `orientation` inside `Detector_config`;
//! * 3: `Parallax: True/False` and a `sensor` inside `Detector_config`.
//!
//! Keys are case-insensitive, `Dist` is accepted for `Distance`, unknown keys are tolerated,
//! and the version is raised to what the content implies (a `Detector_config` means ≥ 2, with
//! an orientation ≥ 2.1, a `Parallax` key ≥ 3), as pyFAI does. Missing geometry keys, values
//! that are not numbers, NaN and infinities are errors that name the key and the line.
//!
//! ```
//! let poni = azint::poni::Poni::parse(
//!     "poni_version: 2.1\n\
//!      Detector: PilatusCdTe2M\n\
//!      Detector_config: {\"pixel1\": 0.000172, \"pixel2\": 0.000172, \"orientation\": 3}\n\
//!      Distance: 0.25\nPoni1: 0.14\nPoni2: 0.12\nRot1: 0.01\nRot2: -0.02\nRot3: 0.03\n\
//!      Wavelength: 2.0664e-11\n",
//! )?;
//! assert_eq!(poni.detector.class_name(), "PilatusCdTe2M");
//! assert_eq!(poni.dist, 0.25);
//! # Ok::<(), azint::Error>(())
//! ```

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::Error;
use crate::detector::{Detector, Model};

/// Limit on the size of a PONI file read from disk (a real one is below 1 KiB).
const MAX_PONI_BYTES: u64 = 1 << 20;

/// The content of a PONI file.
#[derive(Debug, Clone, PartialEq)]
pub struct Poni {
    /// The version, after raising it to what the content implies (1, 2, 2.1 or 3).
    pub version: f64,
    /// The detector.
    pub detector: Detector,
    /// Sample–PONI distance, metres.
    pub dist: f64,
    /// PONI coordinate along the slow axis, metres.
    pub poni1: f64,
    /// PONI coordinate along the fast axis, metres.
    pub poni2: f64,
    /// Rotation about axis 1, radians.
    pub rot1: f64,
    /// Rotation about axis 2, radians.
    pub rot2: f64,
    /// Rotation about axis 3, radians.
    pub rot3: f64,
    /// Wavelength, metres (optional in pyFAI; q units need it).
    pub wavelength: Option<f64>,
    /// Parallax correction flag of version 3 (`None` when absent).
    pub parallax: Option<bool>,
    /// `# Calibrant: …` and `# Image: …` comment entries, as pyFAI keeps them.
    pub extra: Vec<(String, String)>,
}

struct Entry {
    line: usize,
    value: String,
}

impl Poni {
    /// Reads and parses a PONI file; errors carry the path.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Poni, Error> {
        let path = path.as_ref();
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > MAX_PONI_BYTES {
            return Err(Error::InFile {
                path: path.to_owned(),
                source: Box::new(Error::FileTooLarge {
                    size: meta.len(),
                    limit: MAX_PONI_BYTES,
                }),
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let text = String::from_utf8_lossy(&bytes);
        Poni::parse(&text).map_err(|e| Error::InFile {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// Parses the text of a PONI file.
    pub fn parse(text: &str) -> Result<Poni, Error> {
        let mut entries: HashMap<String, Entry> = HashMap::new();
        let mut extra: Vec<(String, String)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim_start();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if let Some(comment_key) = key.strip_prefix('#') {
                let k = capitalize(comment_key.trim());
                if k == "Calibrant" || k == "Image" {
                    extra.retain(|(e, _)| *e != k);
                    extra.push((k, value.trim().to_owned()));
                }
                continue;
            }
            entries.insert(
                key.trim().to_lowercase(),
                Entry {
                    line: n + 1,
                    value: value.trim().to_owned(),
                },
            );
        }

        let mut version = match entries.get("poni_version") {
            Some(e) => parse_number(e, "poni_version")?,
            None => 1.0,
        };
        let config =
            match entries.get("detector_config") {
                Some(e) => Some(serde_json::from_str::<Value>(&e.value).map_err(|_| {
                    Error::InvalidValue {
                        line: e.line,
                        key: "Detector_config".into(),
                        value: e.value.clone(),
                        reason: "not valid JSON",
                    }
                })?),
                None => None,
            };
        if let Some(c) = &config {
            let has_orientation = c
                .as_object()
                .is_some_and(|o| o.keys().any(|k| k.eq_ignore_ascii_case("orientation")));
            version = version.max(if has_orientation { 2.1 } else { 2.0 });
        }
        if entries.contains_key("parallax") {
            version = version.max(3.0);
        }
        if !(1.0..=3.0).contains(&version) {
            return Err(Error::UnsupportedPoniVersion { version });
        }

        let detector = if version >= 2.0 {
            let name = entries
                .get("detector")
                .ok_or(Error::MissingKey { key: "Detector" })?;
            if name.value.eq_ignore_ascii_case("none") {
                return Err(Error::MissingKey { key: "Detector" });
            }
            Detector::from_name_and_config(&name.value, config.as_ref())?
        } else {
            detector_v1(&entries)?
        };

        let parallax = entries
            .get("parallax")
            .map(|e| e.value.trim().eq_ignore_ascii_case("true"));

        let dist = match entries.get("distance").or_else(|| entries.get("dist")) {
            Some(e) => parse_number(e, "Distance")?,
            None => return Err(Error::MissingKey { key: "Distance" }),
        };
        let required = |key: &'static str| -> Result<f64, Error> {
            match entries.get(&key.to_lowercase()) {
                Some(e) => parse_number(e, key),
                None => Err(Error::MissingKey { key }),
            }
        };
        let poni1 = required("Poni1")?;
        let poni2 = required("Poni2")?;
        let rot1 = required("Rot1")?;
        let rot2 = required("Rot2")?;
        let rot3 = required("Rot3")?;
        let wavelength = match entries.get("wavelength") {
            Some(e) if !e.value.eq_ignore_ascii_case("none") => {
                Some(parse_number(e, "Wavelength")?)
            }
            _ => None,
        };
        let poni = Poni {
            version,
            detector,
            dist,
            poni1,
            poni2,
            rot1,
            rot2,
            rot3,
            wavelength,
            parallax,
            extra,
        };
        poni.validate()?;
        Ok(poni)
    }

    /// Checks the physical sense of the parameters (finite, distance and wavelength > 0).
    pub fn validate(&self) -> Result<(), Error> {
        for (key, value) in [
            ("Distance", self.dist),
            ("Poni1", self.poni1),
            ("Poni2", self.poni2),
            ("Rot1", self.rot1),
            ("Rot2", self.rot2),
            ("Rot3", self.rot3),
        ] {
            if !value.is_finite() {
                return Err(Error::NotFinite { key, value });
            }
        }
        if self.dist <= 0.0 {
            return Err(Error::OutOfRange {
                key: "Distance",
                value: self.dist,
                reason: "must be > 0",
            });
        }
        if let Some(w) = self.wavelength {
            if !w.is_finite() {
                return Err(Error::NotFinite {
                    key: "Wavelength",
                    value: w,
                });
            }
            if w <= 0.0 {
                return Err(Error::OutOfRange {
                    key: "Wavelength",
                    value: w,
                    reason: "must be > 0",
                });
            }
        }
        Ok(())
    }

    /// The PONI text pyFAI would write for this geometry (version 2.1, or 3 when a parallax
    /// flag was read), readable by pyFAI and by [`Poni::parse`]; for the NeXus process group.
    pub fn to_text(&self) -> String {
        let version = if self.parallax.is_some() { "3" } else { "2.1" };
        let mut out = String::new();
        out.push_str("# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis\n");
        out.push_str(&format!("poni_version: {version}\n"));
        out.push_str(&format!("Detector: {}\n", self.detector.class_name()));
        out.push_str(&format!(
            "Detector_config: {}\n",
            self.detector.config_json()
        ));
        for (key, value) in [
            ("Distance", self.dist),
            ("Poni1", self.poni1),
            ("Poni2", self.poni2),
            ("Rot1", self.rot1),
            ("Rot2", self.rot2),
            ("Rot3", self.rot3),
        ] {
            out.push_str(&format!("{key}: {}\n", py_float(value)));
        }
        if let Some(w) = self.wavelength {
            out.push_str(&format!("Wavelength: {}\n", py_float(w)));
        }
        if let Some(p) = self.parallax {
            out.push_str(&format!("Parallax: {}\n", if p { "True" } else { "False" }));
        }
        for (k, v) in &self.extra {
            out.push_str(&format!("# {k}: {v}\n"));
        }
        out
    }
}

/// The detector of a version-1 file: `Detector` if given, else pyFAI's generic detector,
/// with `PixelSize1/2` overriding the pixel size.
fn detector_v1(entries: &HashMap<String, Entry>) -> Result<Detector, Error> {
    if let Some(spline) = entries.get("splinefile")
        && !spline.value.eq_ignore_ascii_case("none")
        && !spline.value.is_empty()
    {
        return Err(Error::Unsupported {
            what: "spline distortion files (SplineFile) in PONI version 1",
        });
    }
    let p1 = match entries.get("pixelsize1") {
        Some(e) => Some(parse_number(e, "PixelSize1")?),
        None => None,
    };
    let p2 = match entries.get("pixelsize2") {
        Some(e) => Some(parse_number(e, "PixelSize2")?),
        None => None,
    };
    let model = match entries.get("detector") {
        Some(e) if !e.value.eq_ignore_ascii_case("none") => Model::from_name(&e.value)?,
        _ => Model::Generic,
    };
    if model == Model::Generic {
        let p1 = p1.ok_or(Error::MissingKey { key: "PixelSize1" })?;
        let p2 = p2.ok_or(Error::MissingKey { key: "PixelSize2" })?;
        return Detector::generic(p1, p2, None, crate::detector::Orientation::BottomRight);
    }
    let det = Detector::new(model)?;
    match (p1, p2) {
        (Some(p1), Some(p2)) => det.with_pixel_size(p1, p2),
        (None, None) => Ok(det),
        (Some(p1), None) => det.clone().with_pixel_size(p1, det.pixel2()),
        (None, Some(p2)) => det.clone().with_pixel_size(det.pixel1(), p2),
    }
}

/// Parses a number as Python's `float()` does (surrounding spaces, `inf`, `nan`); NaN and
/// infinities are rejected with the key's name.
fn parse_number(e: &Entry, key: &'static str) -> Result<f64, Error> {
    let v: f64 = e
        .value
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| Error::InvalidValue {
            line: e.line,
            key: key.into(),
            value: e.value.clone(),
            reason: "not a number",
        })?;
    if !v.is_finite() {
        return Err(Error::InvalidValue {
            line: e.line,
            key: key.into(),
            value: e.value.clone(),
            reason: "not finite (NaN or infinity)",
        });
    }
    Ok(v)
}

fn capitalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, ch) in s.chars().enumerate() {
        if i == 0 {
            out.extend(ch.to_uppercase());
        } else {
            out.extend(ch.to_lowercase());
        }
    }
    out
}

/// Formats a float as Python's `repr` does (shortest round-trip digits; scientific notation
/// below 1e-4 and from 1e16, with a two-digit exponent: `0.000172`, `1e-05`, `0.25`, `1.0`).
pub(crate) fn py_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Shortest round-trip digits and decimal exponent from Rust's `{:e}`.
    let sci = format!("{:e}", v.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if v < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let body = if exp < 0 {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        } else if exp + 1 >= n {
            format!("{}{}.0", digits, "0".repeat((exp + 1 - n) as usize))
        } else {
            let (a, b) = digits.split_at((exp + 1) as usize);
            format!("{a}.{b}")
        };
        format!("{sign}{body}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_float_matches_python_repr() {
        for (v, s) in [
            (0.000172, "0.000172"),
            (1e-5, "1e-05"),
            (7.5e-05, "7.5e-05"),
            (0.25, "0.25"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (-0.0123, "-0.0123"),
            (1.2345e16, "1.2345e+16"),
            (2.0664032e-11, "2.0664032e-11"),
            (123.456, "123.456"),
            (0.0001, "0.0001"),
        ] {
            assert_eq!(py_float(v), s);
        }
    }
}

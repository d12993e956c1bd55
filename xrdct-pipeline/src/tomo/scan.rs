//! The XRD-CT scan model: which (rotation, translation) each frame was recorded at.
//!
//! A scan is `rotations × translations` frames. One axis is fast (usually the translation:
//! a line across the sample at each angle); with zigzag (snake) acquisition every other
//! line runs backwards. Angles come as a range, a list (text file) or from the frames'
//! `Start_angle` header field.

use std::path::{Path, PathBuf};

/// Errors describing a scan.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// A dimension is zero or the product overflows.
    #[error("invalid scan size {rotations} rotations × {translations} translations")]
    Size {
        /// Rotations.
        rotations: usize,
        /// Translations.
        translations: usize,
    },
    /// The number of angles differs from the number of rotations.
    #[error("{angles} angles given for {rotations} rotations")]
    AngleCount {
        /// Angles.
        angles: usize,
        /// Rotations.
        rotations: usize,
    },
    /// An angle is not a finite number.
    #[error("{source_name}: angle {index} ({text:?}) is not a finite number")]
    BadAngle {
        /// File or "list".
        source_name: String,
        /// Position in the list.
        index: usize,
        /// The offending text.
        text: String,
    },
    /// The frame count does not match the scan.
    #[error("{frames} frames for a scan of {rotations} × {translations} = {expected}")]
    FrameCount {
        /// Frames found.
        frames: usize,
        /// Rotations.
        rotations: usize,
        /// Translations.
        translations: usize,
        /// Product.
        expected: usize,
    },
    /// No frame of a rotation carries a `Start_angle`.
    #[error("no frame of rotation {rotation} carries a Start_angle header")]
    MissingStartAngle {
        /// Rotation index.
        rotation: usize,
    },
    /// An unparsable specification (fast axis, angle range...).
    #[error("cannot parse {what} {text:?}: {hint}")]
    Spec {
        /// What was parsed.
        what: &'static str,
        /// Input.
        text: String,
        /// Expected form.
        hint: &'static str,
    },
    /// An angle file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
}

/// Which axis moves between consecutive frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FastAxis {
    /// A line of translations per rotation angle (the usual XRD-CT scan).
    #[default]
    Translation,
    /// A full rotation per translation position.
    Rotation,
}

impl std::str::FromStr for FastAxis {
    type Err = ScanError;
    fn from_str(s: &str) -> Result<Self, ScanError> {
        match s {
            "translation" | "trans" | "t" => Ok(FastAxis::Translation),
            "rotation" | "rot" | "r" => Ok(FastAxis::Rotation),
            _ => Err(ScanError::Spec {
                what: "fast axis",
                text: s.into(),
                hint: "translation or rotation",
            }),
        }
    }
}

/// A rectangular XRD-CT scan.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanModel {
    rotations: usize,
    translations: usize,
    fast: FastAxis,
    zigzag: bool,
    angles_deg: Vec<f64>,
}

impl ScanModel {
    /// A scan of `rotations × translations` frames with one angle (degrees) per rotation.
    pub fn new(
        rotations: usize,
        translations: usize,
        fast: FastAxis,
        zigzag: bool,
        angles_deg: Vec<f64>,
    ) -> Result<Self, ScanError> {
        if rotations == 0 || translations == 0 || rotations.checked_mul(translations).is_none() {
            return Err(ScanError::Size {
                rotations,
                translations,
            });
        }
        if angles_deg.len() != rotations {
            return Err(ScanError::AngleCount {
                angles: angles_deg.len(),
                rotations,
            });
        }
        if let Some(i) = angles_deg.iter().position(|a| !a.is_finite()) {
            return Err(ScanError::BadAngle {
                source_name: "list".into(),
                index: i,
                text: angles_deg[i].to_string(),
            });
        }
        Ok(ScanModel {
            rotations,
            translations,
            fast,
            zigzag,
            angles_deg,
        })
    }
    /// Rotations.
    pub fn rotations(&self) -> usize {
        self.rotations
    }
    /// Translations.
    pub fn translations(&self) -> usize {
        self.translations
    }
    /// Fast axis.
    pub fn fast(&self) -> FastAxis {
        self.fast
    }
    /// Zigzag acquisition.
    pub fn zigzag(&self) -> bool {
        self.zigzag
    }
    /// Angles, degrees.
    pub fn angles_deg(&self) -> &[f64] {
        &self.angles_deg
    }
    /// Frames in the scan.
    pub fn frames(&self) -> usize {
        self.rotations * self.translations
    }
    /// `(rotation, translation)` of the frame acquired `frame`-th, `None` past the end.
    pub fn position(&self, frame: usize) -> Option<(usize, usize)> {
        if frame >= self.frames() {
            return None;
        }
        let (slow_n, fast_n) = match self.fast {
            FastAxis::Translation => (self.rotations, self.translations),
            FastAxis::Rotation => (self.translations, self.rotations),
        };
        let _ = slow_n;
        let slow = frame / fast_n;
        let mut fast = frame % fast_n;
        if self.zigzag && slow % 2 == 1 {
            fast = fast_n - 1 - fast;
        }
        Some(match self.fast {
            FastAxis::Translation => (slow, fast),
            FastAxis::Rotation => (fast, slow),
        })
    }
    /// Acquisition index of the frame at `(rotation, translation)`.
    pub fn frame_index(&self, rotation: usize, translation: usize) -> Option<usize> {
        if rotation >= self.rotations || translation >= self.translations {
            return None;
        }
        let (slow, fast, fast_n) = match self.fast {
            FastAxis::Translation => (rotation, translation, self.translations),
            FastAxis::Rotation => (translation, rotation, self.rotations),
        };
        let fast = if self.zigzag && slow % 2 == 1 {
            fast_n - 1 - fast
        } else {
            fast
        };
        Some(slow * fast_n + fast)
    }
}

/// `count` angles from `start` to `end` degrees; `end` included only with `endpoint`
/// (numpy `linspace`).
pub fn angles_range(start: f64, end: f64, count: usize, endpoint: bool) -> Vec<f64> {
    let div = if endpoint {
        count.saturating_sub(1).max(1)
    } else {
        count.max(1)
    };
    (0..count)
        .map(|i| start + (end - start) * i as f64 / div as f64)
        .collect()
}

/// Parses angles from text: numbers separated by white space or commas; `#` starts a
/// comment. `source_name` names the input in errors.
pub fn parse_angles(text: &str, source_name: &str) -> Result<Vec<f64>, ScanError> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        for tok in line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
        {
            match tok.parse::<f64>() {
                Ok(v) if v.is_finite() => out.push(v),
                _ => {
                    return Err(ScanError::BadAngle {
                        source_name: source_name.into(),
                        index: out.len(),
                        text: tok.into(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Reads angles from a text file ([`parse_angles`]).
pub fn read_angles_file(path: &Path) -> Result<Vec<f64>, ScanError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScanError::Io {
        path: path.into(),
        source,
    })?;
    parse_angles(&text, &path.display().to_string())
}

/// How the angles of a scan are given on the command line.
#[derive(Clone, Debug, PartialEq)]
pub enum AngleSpec {
    /// `START:END` (end excluded, like a 0–180° scan) or `START:END:incl`.
    Range {
        /// First angle.
        start: f64,
        /// Last (or excluded end) angle.
        end: f64,
        /// Whether `end` is included.
        endpoint: bool,
    },
    /// `file:PATH`: a text file.
    File(PathBuf),
    /// `header`: the frames' `Start_angle`.
    Header,
}

impl std::str::FromStr for AngleSpec {
    type Err = ScanError;
    fn from_str(s: &str) -> Result<Self, ScanError> {
        if s == "header" {
            return Ok(AngleSpec::Header);
        }
        if let Some(p) = s.strip_prefix("file:") {
            return Ok(AngleSpec::File(p.into()));
        }
        let parts: Vec<&str> = s.split(':').collect();
        let bad = || ScanError::Spec {
            what: "angles",
            text: s.into(),
            hint: "START:END, START:END:incl, file:PATH or header",
        };
        let num = |t: &str| t.parse::<f64>().ok().filter(|v| v.is_finite());
        match parts.as_slice() {
            [a, b] => Ok(AngleSpec::Range {
                start: num(a).ok_or_else(bad)?,
                end: num(b).ok_or_else(bad)?,
                endpoint: false,
            }),
            [a, b, "incl"] => Ok(AngleSpec::Range {
                start: num(a).ok_or_else(bad)?,
                end: num(b).ok_or_else(bad)?,
                endpoint: true,
            }),
            _ => Err(bad()),
        }
    }
}

/// One angle per rotation from per-frame `Start_angle` values (acquisition order): the
/// first frame of each rotation that has one.
pub fn angles_from_start_angles(
    scan_dims: (usize, usize, FastAxis, bool),
    start_angles: &[Option<f64>],
) -> Result<Vec<f64>, ScanError> {
    let (rotations, translations, fast, zigzag) = scan_dims;
    let probe = ScanModel::new(rotations, translations, fast, zigzag, vec![0.0; rotations])?;
    if start_angles.len() != probe.frames() {
        return Err(ScanError::FrameCount {
            frames: start_angles.len(),
            rotations,
            translations,
            expected: probe.frames(),
        });
    }
    let mut out: Vec<Option<f64>> = vec![None; rotations];
    for (f, a) in start_angles.iter().enumerate() {
        if let (Some((r, _)), Some(a)) = (probe.position(f), a)
            && out[r].is_none()
            && a.is_finite()
        {
            out[r] = Some(*a);
        }
    }
    out.iter()
        .enumerate()
        .map(|(r, a)| a.ok_or(ScanError::MissingStartAngle { rotation: r }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zigzag_translation_fast() {
        let s = ScanModel::new(3, 4, FastAxis::Translation, true, vec![0.0, 60.0, 120.0]).unwrap();
        let order: Vec<_> = (0..12).map(|f| s.position(f).unwrap()).collect();
        assert_eq!(&order[..5], &[(0, 0), (0, 1), (0, 2), (0, 3), (1, 3)]);
        assert_eq!(order[7], (1, 0));
        assert_eq!(order[8], (2, 0));
        assert_eq!(s.position(12), None);
    }

    #[test]
    fn rotation_fast() {
        let s = ScanModel::new(3, 2, FastAxis::Rotation, false, vec![0.0, 60.0, 120.0]).unwrap();
        let order: Vec<_> = (0..6).map(|f| s.position(f).unwrap()).collect();
        assert_eq!(order, vec![(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]);
    }

    proptest! {
        #[test]
        fn frame_index_inverts_position(r in 1usize..7, t in 1usize..7, rot_fast: bool, zz: bool) {
            let fast = if rot_fast { FastAxis::Rotation } else { FastAxis::Translation };
            let s = ScanModel::new(r, t, fast, zz, vec![0.0; r]).unwrap();
            let mut seen = vec![false; r * t];
            for f in 0..s.frames() {
                let (a, b) = s.position(f).unwrap();
                prop_assert_eq!(s.frame_index(a, b), Some(f));
                prop_assert!(!seen[a * t + b]);
                seen[a * t + b] = true;
            }
        }
    }

    #[test]
    fn angle_specs() {
        assert_eq!(
            angles_range(0.0, 180.0, 4, false),
            vec![0.0, 45.0, 90.0, 135.0]
        );
        assert_eq!(angles_range(0.0, 180.0, 3, true), vec![0.0, 90.0, 180.0]);
        assert_eq!(
            parse_angles("0, 1.5 # c\n 3\n", "x").unwrap(),
            vec![0.0, 1.5, 3.0]
        );
        assert!(matches!(
            parse_angles("0 nan", "x"),
            Err(ScanError::BadAngle { index: 1, .. })
        ));
        assert_eq!(
            "0:180".parse::<AngleSpec>().unwrap(),
            AngleSpec::Range {
                start: 0.0,
                end: 180.0,
                endpoint: false
            }
        );
        assert_eq!("header".parse::<AngleSpec>().unwrap(), AngleSpec::Header);
        assert!("0:x".parse::<AngleSpec>().is_err());
        assert!(ScanModel::new(0, 3, FastAxis::Translation, false, vec![]).is_err());
        assert!(ScanModel::new(2, 3, FastAxis::Translation, false, vec![0.0]).is_err());
    }

    #[test]
    fn start_angles_per_rotation() {
        let a = [
            None,
            Some(0.0),
            Some(0.1),
            Some(90.0),
            Some(90.1),
            Some(90.2),
        ];
        let v = angles_from_start_angles((2, 3, FastAxis::Translation, false), &a).unwrap();
        assert_eq!(v, vec![0.0, 90.0]);
        let a = [None, None, None, Some(90.0), None, None];
        assert!(matches!(
            angles_from_start_angles((2, 3, FastAxis::Translation, false), &a),
            Err(ScanError::MissingStartAngle { rotation: 0 })
        ));
    }
}

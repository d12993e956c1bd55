//! Detector models as pyFAI defines them: pixel size, shape, orientation and the built-in
//! mask of the gaps between modules.
//!
//! Names are resolved as `pyFAI.detector_factory` resolves them: the exact class name
//! (`PilatusCdTe2M`), then the lower-cased name, then the lower-cased name with spaces
//! replaced by underscores, against a registry holding each class name in lower case and
//! each alias in lower case with spaces turned into `_` or removed (`Pilatus CdTe 2M`,
//! `pilatus_cdte_2m`, `Pilatus2MCdTe`, …).

#![forbid(unsafe_code)]

use serde_json::Value;

use crate::Error;

/// Orientation of the detector (pyFAI's `Orientation`, after the NeXus convention): which
/// corner of the image holds the first pixel, as seen from the sample.
///
/// pyFAI models it by remapping pixel indices: with 3 (the default of Dectris detectors and
/// of pyFAI) the indices are used as they are; 1 flips both axes, 2 flips the slow axis
/// (rows), 4 flips the fast axis (columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Orientation {
    /// 1: origin top-left; both axes flipped.
    TopLeft = 1,
    /// 2: origin top-right; slow axis flipped.
    TopRight = 2,
    /// 3: origin bottom-right; pyFAI's default and the Dectris default.
    BottomRight = 3,
    /// 4: origin bottom-left; fast axis flipped.
    BottomLeft = 4,
}

impl Orientation {
    /// From pyFAI's integer (0 = unspecified, treated as 3 as pyFAI does).
    pub fn from_int(value: i64) -> Option<Orientation> {
        match value {
            0 | 3 => Some(Orientation::BottomRight),
            1 => Some(Orientation::TopLeft),
            2 => Some(Orientation::TopRight),
            4 => Some(Orientation::BottomLeft),
            _ => None,
        }
    }

    /// pyFAI's integer.
    pub fn as_int(self) -> u8 {
        self as u8
    }

    /// Whether the slow (row) index is reversed.
    pub fn flips_rows(self) -> bool {
        matches!(self, Orientation::TopLeft | Orientation::TopRight)
    }

    /// Whether the fast (column) index is reversed.
    pub fn flips_cols(self) -> bool {
        matches!(self, Orientation::TopLeft | Orientation::BottomLeft)
    }
}

/// The detector models this crate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Model {
    /// pyFAI's generic `Detector` (pixel size and shape from the configuration, no gaps).
    Generic,
    /// Dectris Pilatus 1M.
    Pilatus1M,
    /// Dectris Pilatus 2M.
    Pilatus2M,
    /// Dectris Pilatus 6M.
    Pilatus6M,
    /// Dectris Pilatus CdTe 1M (3 masked columns in the middle of each module).
    PilatusCdTe1M,
    /// Dectris Pilatus CdTe 2M (3 masked columns in the middle of each module).
    PilatusCdTe2M,
    /// Dectris Pilatus4 2M (150 µm pixels).
    Pilatus4_2M,
    /// Dectris Eiger2 CdTe 4M (2 masked columns in the middle of each module).
    Eiger2CdTe4M,
    /// Dectris Eiger2 CdTe 9M (2 masked columns in the middle of each module).
    Eiger2CdTe9M,
}

/// Static description of a modular detector.
struct ModelInfo {
    model: Model,
    class_name: &'static str,
    aliases: &'static [&'static str],
    pixel: f64,
    shape: (usize, usize),
    /// Module size (rows, columns) and gap between modules (rows, columns).
    module: Option<((usize, usize), (usize, usize))>,
    /// Columns masked inside every module (counted from the module's first column).
    module_masked_cols: &'static [usize],
}

const PILATUS_MODULE: Option<((usize, usize), (usize, usize))> = Some(((195, 487), (17, 7)));
const PILATUS_CDTE_COLS: &[usize] = &[242, 243, 244];

const MODELS: &[ModelInfo] = &[
    ModelInfo {
        model: Model::Generic,
        class_name: "Detector",
        aliases: &[],
        pixel: f64::NAN,
        shape: (0, 0),
        module: None,
        module_masked_cols: &[],
    },
    ModelInfo {
        model: Model::Pilatus1M,
        class_name: "Pilatus1M",
        aliases: &["Pilatus 1M"],
        pixel: 172e-6,
        shape: (1043, 981),
        module: PILATUS_MODULE,
        module_masked_cols: &[],
    },
    ModelInfo {
        model: Model::Pilatus2M,
        class_name: "Pilatus2M",
        aliases: &["Pilatus 2M"],
        pixel: 172e-6,
        shape: (1679, 1475),
        module: PILATUS_MODULE,
        module_masked_cols: &[],
    },
    ModelInfo {
        model: Model::Pilatus6M,
        class_name: "Pilatus6M",
        aliases: &["Pilatus 6M"],
        pixel: 172e-6,
        shape: (2527, 2463),
        module: PILATUS_MODULE,
        module_masked_cols: &[],
    },
    ModelInfo {
        model: Model::PilatusCdTe1M,
        class_name: "PilatusCdTe1M",
        aliases: &[
            "Pilatus CdTe 1M",
            "Pilatus 1M CdTe",
            "Pilatus1M CdTe",
            "Pilatus1MCdTe",
        ],
        pixel: 172e-6,
        shape: (1043, 981),
        module: PILATUS_MODULE,
        module_masked_cols: PILATUS_CDTE_COLS,
    },
    ModelInfo {
        model: Model::PilatusCdTe2M,
        class_name: "PilatusCdTe2M",
        aliases: &[
            "Pilatus CdTe 2M",
            "Pilatus 2M CdTe",
            "Pilatus2M CdTe",
            "Pilatus2MCdTe",
        ],
        pixel: 172e-6,
        shape: (1679, 1475),
        module: PILATUS_MODULE,
        module_masked_cols: PILATUS_CDTE_COLS,
    },
    ModelInfo {
        model: Model::Pilatus4_2M,
        class_name: "Pilatus4_2M",
        aliases: &["Pilatus4 2M"],
        pixel: 150e-6,
        shape: (1630, 1553),
        module: Some(((255, 513), (20, 7))),
        module_masked_cols: &[],
    },
    ModelInfo {
        model: Model::Eiger2CdTe4M,
        class_name: "Eiger2CdTe_4M",
        aliases: &["Eiger2 CdTe 4M"],
        pixel: 75e-6,
        shape: (2162, 2068),
        module: Some(((512, 1028), (38, 12))),
        module_masked_cols: &[513, 514],
    },
    ModelInfo {
        model: Model::Eiger2CdTe9M,
        class_name: "Eiger2CdTe_9M",
        aliases: &["Eiger2 CdTe 9M"],
        pixel: 75e-6,
        shape: (3262, 3108),
        module: Some(((512, 1028), (38, 12))),
        module_masked_cols: &[513, 514],
    },
];

const KNOWN: &str = "Detector, Pilatus1M, Pilatus2M, Pilatus6M, PilatusCdTe1M, PilatusCdTe2M, \
                     Pilatus4_2M, Eiger2CdTe_4M, Eiger2CdTe_9M (and their pyFAI aliases)";

fn info(model: Model) -> &'static ModelInfo {
    // Every Model variant has exactly one entry in MODELS.
    MODELS
        .iter()
        .find(|m| m.model == model)
        .unwrap_or(&MODELS[0])
}

impl Model {
    /// Resolves a pyFAI detector name (class name or alias), as `detector_factory` does.
    pub fn from_name(name: &str) -> Result<Model, Error> {
        let trimmed = name.trim();
        if let Some(m) = MODELS.iter().find(|m| m.class_name == trimmed) {
            return Ok(m.model);
        }
        let lower = trimmed.to_lowercase();
        let candidates = [lower.clone(), lower.replace(' ', "_")];
        for candidate in &candidates {
            for m in MODELS {
                if m.class_name.to_lowercase() == *candidate {
                    return Ok(m.model);
                }
                for alias in m.aliases {
                    let a = alias.to_lowercase();
                    if a.replace(' ', "_") == *candidate || a.replace(' ', "") == *candidate {
                        return Ok(m.model);
                    }
                }
            }
        }
        Err(Error::UnknownDetector {
            name: trimmed.to_owned(),
            known: KNOWN,
        })
    }

    /// pyFAI's class name (what pyFAI writes after `Detector:` in a PONI file).
    pub fn class_name(self) -> &'static str {
        info(self).class_name
    }

    /// pyFAI's aliases of the class.
    pub fn aliases(self) -> &'static [&'static str] {
        info(self).aliases
    }

    /// Every model.
    pub fn all() -> impl Iterator<Item = Model> {
        MODELS.iter().map(|m| m.model)
    }
}

/// A detector: model, pixel size, shape and orientation.
#[derive(Debug, Clone, PartialEq)]
pub struct Detector {
    model: Model,
    pixel1: f64,
    pixel2: f64,
    shape: Option<(usize, usize)>,
    orientation: Orientation,
    sensor: Option<Value>,
}

impl Detector {
    /// A known model with its default pixel size, shape and orientation 3.
    /// For [`Model::Generic`] use [`Detector::generic`].
    pub fn new(model: Model) -> Result<Detector, Error> {
        if model == Model::Generic {
            return Err(Error::DetectorConfig {
                detector: "Detector",
                reason: "the generic detector needs pixel1 and pixel2 (use Detector::generic)"
                    .into(),
            });
        }
        let i = info(model);
        Ok(Detector {
            model,
            pixel1: i.pixel,
            pixel2: i.pixel,
            shape: Some(i.shape),
            orientation: Orientation::BottomRight,
            sensor: None,
        })
    }

    /// pyFAI's generic `Detector(pixel1, pixel2, max_shape, orientation)`, without gaps.
    pub fn generic(
        pixel1: f64,
        pixel2: f64,
        max_shape: Option<(usize, usize)>,
        orientation: Orientation,
    ) -> Result<Detector, Error> {
        check_pixel("Detector", "pixel1", pixel1)?;
        check_pixel("Detector", "pixel2", pixel2)?;
        if let Some((r, c)) = max_shape {
            check_shape("Detector", r, c)?;
        }
        Ok(Detector {
            model: Model::Generic,
            pixel1,
            pixel2,
            shape: max_shape,
            orientation,
            sensor: None,
        })
    }

    /// Builds a detector from a pyFAI name and its `Detector_config` (JSON object, keys
    /// case-insensitive: `pixel1`, `pixel2`, `max_shape`, `orientation`, `sensor`; others are
    /// tolerated and ignored, as pyFAI does with a logged error).
    pub fn from_name_and_config(name: &str, config: Option<&Value>) -> Result<Detector, Error> {
        let model = Model::from_name(name)?;
        let class = model.class_name();
        let (mut pixel1, mut pixel2, mut shape) = if model == Model::Generic {
            (None, None, None)
        } else {
            let i = info(model);
            (Some(i.pixel), Some(i.pixel), Some(i.shape))
        };
        let mut orientation = Orientation::BottomRight;
        let mut sensor = None;
        if let Some(config) = config {
            let obj = match config {
                Value::Null => None,
                Value::Object(o) => Some(o),
                _ => {
                    return Err(Error::DetectorConfig {
                        detector: class,
                        reason: format!("Detector_config must be a JSON object, got {config}"),
                    });
                }
            };
            for (key, value) in obj.into_iter().flatten() {
                match key.to_lowercase().as_str() {
                    "pixel1" => pixel1 = json_pixel(class, "pixel1", value)?.or(pixel1),
                    "pixel2" => pixel2 = json_pixel(class, "pixel2", value)?.or(pixel2),
                    "max_shape" => {
                        if let Some(s) = json_shape(class, value)? {
                            if model != Model::Generic && Some(s) != shape {
                                return Err(Error::DetectorConfig {
                                    detector: class,
                                    reason: format!(
                                        "max_shape {s:?} differs from the model's {:?} \
                                         (binning is not supported)",
                                        info(model).shape
                                    ),
                                });
                            }
                            shape = Some(s);
                        }
                    }
                    "orientation" => {
                        orientation =
                            match value {
                                Value::Null => Orientation::BottomRight,
                                _ => value.as_i64().and_then(Orientation::from_int).ok_or_else(
                                    || Error::DetectorConfig {
                                        detector: class,
                                        reason: format!("orientation must be 0..=4, got {value}"),
                                    },
                                )?,
                            }
                    }
                    "sensor" if !value.is_null() => sensor = Some(value.clone()),
                    _ => {}
                }
            }
        }
        let (Some(pixel1), Some(pixel2)) = (pixel1, pixel2) else {
            return Err(Error::DetectorConfig {
                detector: class,
                reason: "pixel1 and pixel2 are required".into(),
            });
        };
        check_pixel(class, "pixel1", pixel1)?;
        check_pixel(class, "pixel2", pixel2)?;
        Ok(Detector {
            model,
            pixel1,
            pixel2,
            shape,
            orientation,
            sensor,
        })
    }

    /// Same detector with another orientation.
    pub fn with_orientation(mut self, orientation: Orientation) -> Detector {
        self.orientation = orientation;
        self
    }

    /// Same detector with other pixel sizes (pyFAI's `pixelsize1/2` of version-1 PONI files).
    pub fn with_pixel_size(mut self, pixel1: f64, pixel2: f64) -> Result<Detector, Error> {
        let class = self.model.class_name();
        check_pixel(class, "pixel1", pixel1)?;
        check_pixel(class, "pixel2", pixel2)?;
        self.pixel1 = pixel1;
        self.pixel2 = pixel2;
        Ok(self)
    }

    /// The model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// pyFAI's class name.
    pub fn class_name(&self) -> &'static str {
        self.model.class_name()
    }

    /// Pixel size along the slow axis (rows), in metres.
    pub fn pixel1(&self) -> f64 {
        self.pixel1
    }

    /// Pixel size along the fast axis (columns), in metres.
    pub fn pixel2(&self) -> f64 {
        self.pixel2
    }

    /// Shape (rows, columns), if known (a generic detector may have none).
    pub fn shape(&self) -> Option<(usize, usize)> {
        self.shape
    }

    /// Orientation.
    pub fn orientation(&self) -> Orientation {
        self.orientation
    }

    /// The `sensor` entry of a version-3 `Detector_config`, kept as read.
    pub fn sensor(&self) -> Option<&Value> {
        self.sensor.as_ref()
    }

    /// The built-in mask, row-major, `true` = masked: the gaps between modules and, for CdTe
    /// sensors, the columns in the middle of each module. `None` without a known shape.
    pub fn mask(&self) -> Option<Vec<bool>> {
        let (rows, cols) = self.shape?;
        let i = info(self.model);
        let mut mask = vec![false; rows * cols];
        if let Some(((mr, mc), (gr, gc))) = i.module {
            let mut col_masked = vec![false; cols];
            for (c, m) in col_masked.iter_mut().enumerate() {
                let in_module = c % (mc + gc);
                *m = in_module >= mc || i.module_masked_cols.contains(&in_module);
            }
            for (r, row) in mask.chunks_exact_mut(cols).enumerate() {
                if r % (mr + gr) >= mr {
                    row.fill(true);
                } else {
                    row.copy_from_slice(&col_masked);
                }
            }
        }
        Some(mask)
    }

    /// pyFAI's `Detector_config` JSON for this detector, as pyFAI writes it
    /// (`{"pixel1": 0.000172, "pixel2": 0.000172, "orientation": 3}`; the generic detector
    /// adds `max_shape`; a sensor read from the file is written back).
    pub fn config_json(&self) -> String {
        let mut parts = vec![
            format!("\"pixel1\": {}", crate::poni::py_float(self.pixel1)),
            format!("\"pixel2\": {}", crate::poni::py_float(self.pixel2)),
        ];
        if self.model == Model::Generic {
            match self.shape {
                Some((r, c)) => parts.push(format!("\"max_shape\": [{r}, {c}]")),
                None => parts.push("\"max_shape\": null".into()),
            }
        }
        parts.push(format!("\"orientation\": {}", self.orientation.as_int()));
        if let Some(sensor) = &self.sensor {
            parts.push(format!("\"sensor\": {sensor}"));
        }
        format!("{{{}}}", parts.join(", "))
    }
}

fn check_pixel(detector: &'static str, key: &'static str, v: f64) -> Result<(), Error> {
    if !v.is_finite() {
        return Err(Error::NotFinite { key, value: v });
    }
    if v <= 0.0 || v > 1.0 {
        return Err(Error::DetectorConfig {
            detector,
            reason: format!("{key} = {v} m is not a pixel size (0 < size <= 1 m)"),
        });
    }
    Ok(())
}

fn check_shape(detector: &'static str, r: usize, c: usize) -> Result<(), Error> {
    const LIMIT: usize = 1 << 16;
    if r == 0 || c == 0 || r > LIMIT || c > LIMIT {
        return Err(Error::DetectorConfig {
            detector,
            reason: format!("max_shape [{r}, {c}] is not a detector shape (1..=65536 each)"),
        });
    }
    Ok(())
}

fn json_pixel(detector: &'static str, key: &'static str, v: &Value) -> Result<Option<f64>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_f64().map(Some).ok_or(Error::DetectorConfig {
            detector,
            reason: format!("{key} is not a number: {v}"),
        }),
        _ => Err(Error::DetectorConfig {
            detector,
            reason: format!("{key} is not a number: {v}"),
        }),
    }
}

fn json_shape(detector: &'static str, v: &Value) -> Result<Option<(usize, usize)>, Error> {
    let bad = || Error::DetectorConfig {
        detector,
        reason: format!("max_shape must be [rows, columns], got {v}"),
    };
    match v {
        Value::Null => Ok(None),
        Value::Array(a) if a.len() == 2 => {
            let r = a[0].as_u64().ok_or_else(bad)?;
            let c = a[1].as_u64().ok_or_else(bad)?;
            let (r, c) = (
                usize::try_from(r).map_err(|_| bad())?,
                usize::try_from(c).map_err(|_| bad())?,
            );
            check_shape(detector, r, c)?;
            Ok(Some((r, c)))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_pyfai_names_and_aliases() {
        for (name, model) in [
            ("PilatusCdTe2M", Model::PilatusCdTe2M),
            ("Pilatus2MCdTe", Model::PilatusCdTe2M),
            ("Pilatus CdTe 2M", Model::PilatusCdTe2M),
            ("pilatus_cdte_2m", Model::PilatusCdTe2M),
            ("Pilatus2M CdTe", Model::PilatusCdTe2M),
            ("Pilatus 2M", Model::Pilatus2M),
            ("pilatus2m", Model::Pilatus2M),
            ("Pilatus4_2M", Model::Pilatus4_2M),
            ("Pilatus4 2M", Model::Pilatus4_2M),
            ("Eiger2 CdTe 4M", Model::Eiger2CdTe4M),
            ("Eiger2CdTe_9M", Model::Eiger2CdTe9M),
            ("eiger2cdte9m", Model::Eiger2CdTe9M),
            ("Detector", Model::Generic),
        ] {
            assert_eq!(Model::from_name(name).unwrap(), model, "{name}");
        }
        assert!(matches!(
            Model::from_name("Pilatus 3M"),
            Err(Error::UnknownDetector { .. })
        ));
    }

    #[test]
    fn pilatus_cdte_2m_mask_counts() {
        let d = Detector::new(Model::PilatusCdTe2M).unwrap();
        assert_eq!(d.mask().unwrap().iter().filter(|&&m| m).count(), 211_405);
        let d = Detector::new(Model::Pilatus2M).unwrap();
        assert_eq!(d.mask().unwrap().iter().filter(|&&m| m).count(), 197_365);
    }
}

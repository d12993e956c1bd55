//! NeXus HDF5 input and output of sinogram cubes and tomograms.
//!
//! Layout (NeXus classes in `NX_class` attributes):
//! ```text
//! /entry                       NXentry
//!   sinogram                   NXdata, signal = data
//!     data                     f32 [rotations, translations, bins]
//!     rotation_angle           f64 [rotations], units = deg
//!     translation              f64 [translations]
//!     radial                   f64 [bins] (when known), @units @long_name @pyfai_unit
//!     filled                   u8  [rotations, translations]: 1 = interpolated (missing frame)
//!   tomogram                   NXdata, signal = data
//!     data                     f32 [bins, y, x]
//!     radial                   f64 [bins] (when known)
//!     @center_of_rotation, @filter
//!   process                    NXprocess: program, version, configuration (JSON)
//! ```
//! Files are written as `OUT.part` and renamed when complete ([`crate::output`]), so a
//! reader never sees half a file.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use crate::nexus::h5::{nx_group, radial_attrs, str_attr, str_dataset};
use crate::output::partial_path;
use crate::tomo::Tomogram;

/// Largest cube read, in values (16 GiB of `f32`).
pub const MAX_CUBE_VALUES: usize = 1 << 32;

/// Errors reading or writing reconstruction files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconIoError {
    /// The HDF5 library refused an operation (unreadable or corrupt file, disk full...).
    #[error("{path}: {what}: {source}")]
    Hdf5 {
        /// File.
        path: PathBuf,
        /// What was being done.
        what: String,
        /// Library error.
        source: hdf5::Error,
    },
    /// A required dataset is absent (the input is not a sinogram file).
    #[error("{path}: no dataset {dataset}")]
    Missing {
        /// File.
        path: PathBuf,
        /// Dataset path inside the file.
        dataset: &'static str,
    },
    /// A dataset has the wrong rank or size.
    #[error("{path}: {dataset} has shape {shape:?}, expected {expected}")]
    Shape {
        /// File.
        path: PathBuf,
        /// Dataset path.
        dataset: &'static str,
        /// Shape found.
        shape: Vec<usize>,
        /// What was expected.
        expected: String,
    },
    /// The cube is larger than [`MAX_CUBE_VALUES`].
    #[error("{path}: sinogram of {values} values exceeds the limit of {limit}")]
    TooLarge {
        /// File.
        path: PathBuf,
        /// Values claimed by the file.
        values: usize,
        /// Limit.
        limit: usize,
    },
    /// Renaming the finished temporary file failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
}

/// A sinogram cube with its axes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SinogramData {
    /// `rotations × translations × bins`.
    pub data: Vec<f32>,
    /// Rotations.
    pub rotations: usize,
    /// Translations.
    pub translations: usize,
    /// Bins.
    pub bins: usize,
    /// Rotation angle of each rotation, degrees.
    pub angles_deg: Vec<f64>,
    /// Translation positions (default: 0, 1, 2...).
    pub translation: Vec<f64>,
    /// Radial axis of the bins and its unit (e.g. `2th_deg`), when known.
    pub radial: Option<(Vec<f64>, String)>,
    /// `rotations × translations`: `true` where the value was interpolated.
    pub filled: Vec<bool>,
}

/// Reads `/entry/sinogram/{data, rotation_angle}` (+ `translation`, `radial`, `filled` when
/// present).
pub fn read_sinogram(path: &Path) -> Result<SinogramData, ReconIoError> {
    let h5 = |what: &str| {
        let what = what.to_string();
        move |source| ReconIoError::Hdf5 {
            path: path.to_path_buf(),
            what,
            source,
        }
    };
    let file = hdf5::File::open(path).map_err(h5("opening"))?;
    let ds = file
        .dataset("entry/sinogram/data")
        .map_err(|_| ReconIoError::Missing {
            path: path.into(),
            dataset: "/entry/sinogram/data",
        })?;
    let shape = ds.shape();
    if shape.len() != 3 {
        return Err(ReconIoError::Shape {
            path: path.into(),
            dataset: "/entry/sinogram/data",
            shape,
            expected: "rotations × translations × bins".into(),
        });
    }
    let (rotations, translations, bins) = (shape[0], shape[1], shape[2]);
    let values = rotations.saturating_mul(translations).saturating_mul(bins);
    if values > MAX_CUBE_VALUES {
        return Err(ReconIoError::TooLarge {
            path: path.into(),
            values,
            limit: MAX_CUBE_VALUES,
        });
    }
    let data: Vec<f32> = ds.read_raw().map_err(h5("reading /entry/sinogram/data"))?;
    let ang = file
        .dataset("entry/sinogram/rotation_angle")
        .map_err(|_| ReconIoError::Missing {
            path: path.into(),
            dataset: "/entry/sinogram/rotation_angle",
        })?;
    let angles_deg: Vec<f64> = ang.read_raw().map_err(h5("reading rotation_angle"))?;
    if angles_deg.len() != rotations {
        return Err(ReconIoError::Shape {
            path: path.into(),
            dataset: "/entry/sinogram/rotation_angle",
            shape: ang.shape(),
            expected: format!("{rotations} angles"),
        });
    }
    let translation = match file.dataset("entry/sinogram/translation") {
        Ok(d) => {
            let t: Vec<f64> = d.read_raw().map_err(h5("reading translation"))?;
            if t.len() == translations {
                t
            } else {
                (0..translations).map(|i| i as f64).collect()
            }
        }
        Err(_) => (0..translations).map(|i| i as f64).collect(),
    };
    let radial = match file.dataset("entry/sinogram/radial") {
        Ok(d) => {
            let r: Vec<f64> = d.read_raw().map_err(h5("reading radial"))?;
            // The pyFAI unit name where xrdct wrote it, else the NeXus units.
            let units = ["pyfai_unit", "units"]
                .iter()
                .find_map(|name| {
                    d.attr(name)
                        .and_then(|a| a.read_scalar::<VarLenUnicode>())
                        .ok()
                })
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            (r.len() == bins).then_some((r, units))
        }
        Err(_) => None,
    };
    let filled = match file.dataset("entry/sinogram/filled") {
        Ok(d) => {
            let f: Vec<u8> = d.read_raw().map_err(h5("reading filled"))?;
            if f.len() == rotations * translations {
                f.iter().map(|&v| v != 0).collect()
            } else {
                vec![false; rotations * translations]
            }
        }
        Err(_) => vec![false; rotations * translations],
    };
    Ok(SinogramData {
        data,
        rotations,
        translations,
        bins,
        angles_deg,
        translation,
        radial,
        filled,
    })
}

/// What [`write_nexus`] puts into the file besides the sinogram.
#[derive(Clone, Copy, Debug)]
pub struct ReconOutput<'a> {
    /// The tomogram, when reconstructed.
    pub tomogram: Option<&'a Tomogram>,
    /// Filter name used.
    pub filter: &'a str,
    /// How the centre was chosen (e.g. "given", "auto: centre-of-mass sinusoid fit").
    pub center_source: &'a str,
    /// Full configuration as JSON, stored in `/entry/process/configuration`.
    pub configuration: &'a str,
}

/// A callback adding groups to a file before it is closed and renamed.
pub type ExtraWriter<'a> = &'a dyn Fn(&hdf5::File) -> Result<(), ReconIoError>;

/// Writes a NeXus file atomically (temporary name, then rename) with the sinogram and,
/// optionally, the tomogram. `extra` runs on the open file before it is closed and renamed,
/// to add groups (e.g. `/entry/integrated`).
pub fn write_nexus(
    path: &Path,
    sino: &SinogramData,
    out: &ReconOutput<'_>,
    extra: Option<ExtraWriter<'_>>,
) -> Result<(), ReconIoError> {
    let tmp = partial_path(path);
    let res = (|| {
        let file = hdf5::File::create(&tmp).map_err(|source| ReconIoError::Hdf5 {
            path: tmp.clone(),
            what: "creating".into(),
            source,
        })?;
        let entry = create_group(&file, "entry", "NXentry", &tmp)?;
        write_sinogram_group(&entry, sino, &tmp)?;
        if let Some(t) = out.tomogram {
            write_tomogram_group(&entry, t, sino.radial.as_ref(), out, &tmp)?;
        }
        let process = create_group(&entry, "process", "NXprocess", &tmp)?;
        write_str_dataset(&process, "program", "xrdct", &tmp)?;
        write_str_dataset(&process, "version", env!("CARGO_PKG_VERSION"), &tmp)?;
        write_str_dataset(&process, "configuration", out.configuration, &tmp)?;
        if let Some(f) = extra {
            f(&file)?;
        }
        file.close().map_err(|source| ReconIoError::Hdf5 {
            path: tmp.clone(),
            what: "closing".into(),
            source,
        })
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        ReconIoError::Io {
            path: path.into(),
            source,
        }
    })
}

fn h5err(path: &Path, what: impl Into<String>) -> impl FnOnce(hdf5::Error) -> ReconIoError {
    let (path, what) = (path.to_path_buf(), what.into());
    move |source| ReconIoError::Hdf5 { path, what, source }
}

/// Creates `name` under `parent` with its `NX_class`.
pub fn create_group(
    parent: &hdf5::Group,
    name: &str,
    class: &str,
    path: &Path,
) -> Result<hdf5::Group, ReconIoError> {
    nx_group(parent, name, class).map_err(h5err(path, format!("creating group {name}")))
}

/// A scalar UTF-8 string attribute (replacing one of the same name).
pub fn write_str_attr(
    loc: &hdf5::Location,
    name: &str,
    value: &str,
    path: &Path,
) -> Result<(), ReconIoError> {
    str_attr(loc, name, value).map_err(h5err(path, format!("writing attribute {name}")))
}

fn write_str_dataset(
    g: &hdf5::Group,
    name: &str,
    value: &str,
    path: &Path,
) -> Result<(), ReconIoError> {
    str_dataset(g, name, value)
        .map(drop)
        .map_err(h5err(path, format!("writing {name}")))
}

fn write_f64_attr(
    loc: &hdf5::Location,
    name: &str,
    v: f64,
    path: &Path,
) -> Result<(), ReconIoError> {
    loc.new_attr::<f64>()
        .create(name)
        .and_then(|a| a.write_scalar(&v))
        .map_err(h5err(path, format!("writing attribute {name}")))
}

fn write_array<T: hdf5::H5Type>(
    g: &hdf5::Group,
    name: &str,
    data: &[T],
    shape: &[usize],
    chunk: Option<Vec<usize>>,
    path: &Path,
) -> Result<hdf5::Dataset, ReconIoError> {
    let mut b = g.new_dataset::<T>().shape(shape.to_vec());
    if let Some(c) = chunk {
        b = b.chunk(c).deflate(1);
    }
    let ds = b
        .create(name)
        .map_err(h5err(path, format!("creating {name}")))?;
    ds.write_raw(data)
        .map_err(h5err(path, format!("writing {name}")))?;
    Ok(ds)
}

/// Writes `/entry/sinogram` under `entry`.
pub fn write_sinogram_group(
    entry: &hdf5::Group,
    s: &SinogramData,
    path: &Path,
) -> Result<(), ReconIoError> {
    let g = create_group(entry, "sinogram", "NXdata", path)?;
    write_str_attr(&g, "signal", "data", path)?;
    let chunk = vec![1, s.translations.max(1), s.bins.max(1)];
    write_array(
        &g,
        "data",
        &s.data,
        &[s.rotations, s.translations, s.bins],
        Some(chunk),
        path,
    )?;
    let a = write_array(
        &g,
        "rotation_angle",
        &s.angles_deg,
        &[s.rotations],
        None,
        path,
    )?;
    write_str_attr(&a, "units", "deg", path)?;
    write_array(
        &g,
        "translation",
        &s.translation,
        &[s.translations],
        None,
        path,
    )?;
    if let Some((r, units)) = &s.radial {
        let d = write_array(&g, "radial", r, &[s.bins], None, path)?;
        radial_attrs(&d, units).map_err(h5err(path, "writing radial attributes"))?;
    }
    let filled: Vec<u8> = if s.filled.len() == s.rotations * s.translations {
        s.filled.iter().map(|&f| f as u8).collect()
    } else {
        vec![0; s.rotations * s.translations]
    };
    write_array(
        &g,
        "filled",
        &filled,
        &[s.rotations, s.translations],
        None,
        path,
    )?;
    Ok(())
}

/// Writes `/entry/tomogram` under `entry`.
pub fn write_tomogram_group(
    entry: &hdf5::Group,
    t: &Tomogram,
    radial: Option<&(Vec<f64>, String)>,
    out: &ReconOutput<'_>,
    path: &Path,
) -> Result<(), ReconIoError> {
    let g = create_group(entry, "tomogram", "NXdata", path)?;
    write_str_attr(&g, "signal", "data", path)?;
    let chunk = vec![1, t.size.max(1), t.size.max(1)];
    write_array(
        &g,
        "data",
        &t.data,
        &[t.bins, t.size, t.size],
        Some(chunk),
        path,
    )?;
    let axis: Vec<f64> = (0..t.size)
        .map(|i| i as f64 - (t.size / 2) as f64)
        .collect();
    write_array(&g, "x", &axis, &[t.size], None, path)?;
    write_array(&g, "y", &axis, &[t.size], None, path)?;
    if let Some((r, units)) = radial {
        let d = write_array(&g, "radial", r, &[t.bins], None, path)?;
        radial_attrs(&d, units).map_err(h5err(path, "writing radial attributes"))?;
    }
    write_f64_attr(&g, "center_of_rotation", t.center, path)?;
    write_str_attr(&g, "center_source", out.center_source, path)?;
    write_str_attr(&g, "filter", out.filter, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinogram_roundtrip_and_atomic_write() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.h5");
        let s = SinogramData {
            data: (0..2 * 3 * 4).map(|v| v as f32).collect(),
            rotations: 2,
            translations: 3,
            bins: 4,
            angles_deg: vec![0.0, 90.0],
            translation: vec![0.0, 0.5, 1.0],
            radial: Some((vec![1.0, 2.0, 3.0, 4.0], "2th_deg".into())),
            filled: vec![false, true, false, false, false, false],
        };
        let t = Tomogram {
            data: vec![1.0; 4 * 9],
            bins: 4,
            size: 3,
            center: 1.0,
        };
        let out = ReconOutput {
            tomogram: Some(&t),
            filter: "ramp",
            center_source: "given",
            configuration: "{}",
        };
        write_nexus(&p, &s, &out, None).unwrap();
        assert!(!partial_path(&p).exists());
        let back = read_sinogram(&p).unwrap();
        assert_eq!(back, s);
        let f = hdf5::File::open(&p).unwrap();
        assert_eq!(
            f.dataset("entry/tomogram/data").unwrap().shape(),
            vec![4, 3, 3]
        );
    }

    #[test]
    fn rejects_non_sinogram_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.h5");
        std::fs::write(&p, b"not hdf5").unwrap();
        assert!(matches!(read_sinogram(&p), Err(ReconIoError::Hdf5 { .. })));
        let f = hdf5::File::create(&p).unwrap();
        f.new_dataset::<f32>().shape([2, 2]).create("x").unwrap();
        drop(f);
        assert!(matches!(
            read_sinogram(&p),
            Err(ReconIoError::Missing { .. })
        ));
    }
}

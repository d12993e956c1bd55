//! Where frames come from: paths, glob patterns, directories (natural sort), list files, and a
//! watched directory that a detector is still writing into ([`Watcher`]), which places each
//! frame in the scan by the number in its file name ([`frame_number`]).
//!
//! ```
//! use xrdct_pipeline::inputs::natural_cmp;
//! let mut names = vec!["f_10.cbf", "f_2.cbf", "f_1.cbf"];
//! names.sort_by(|a, b| natural_cmp(a, b));
//! assert_eq!(names, ["f_1.cbf", "f_2.cbf", "f_10.cbf"]);
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod watch;

pub use watch::{WatchOptions, Watcher};

/// A frame at a known place in the scan: what a [`Watcher`] yields and
/// [`Pipeline::run_indexed`](crate::engine::Pipeline::run_indexed) takes.
#[derive(Debug, Clone)]
pub struct IndexedFrame {
    /// The frame's index in the scan (0: its first frame).
    pub index: usize,
    /// The frame; for a missing one, the file that was expected (its name is recorded as the
    /// frame's source, the file is never read).
    pub source: FrameSource,
    /// The frame never arrived: it is recorded as a failed frame (`file not found`) at its
    /// index, the same row a list naming the absent file gives, without reading `source`.
    pub missing: bool,
}

impl IndexedFrame {
    /// Frame `index` of the scan, read from `source`.
    pub fn new(index: usize, source: FrameSource) -> Self {
        IndexedFrame {
            index,
            source,
            missing: false,
        }
    }

    /// Frame `index` of the scan never arrived; `expected` names the file it should have been.
    pub fn missing(index: usize, expected: FrameSource) -> Self {
        IndexedFrame {
            index,
            source: expected,
            missing: true,
        }
    }
}

/// One frame to reduce: a file, or bytes already in memory (benchmarks, tests, a network
/// receiver).
#[derive(Clone)]
pub enum FrameSource {
    /// A file on disk (CBF or gzip-compressed CBF). It may not exist: the pipeline records
    /// a missing file as a failed frame and goes on.
    File(PathBuf),
    /// A whole CBF file held in memory, with a name for messages and `frame_source`.
    Memory {
        /// Name recorded as the frame's source.
        name: Arc<str>,
        /// The CBF bytes.
        bytes: Arc<[u8]>,
    },
    /// Frame `frame` (0-based) of the 3-D dataset `dataset` (`frames × rows × columns`) of
    /// the HDF5 file `file` (read by `readers::hdf5::Hdf5Reader`, feature `hdf5`).
    Hdf5 {
        /// The HDF5 (NeXus, detector master) file.
        file: Arc<Path>,
        /// The dataset's path in the file (it may be an external link to another file).
        dataset: Arc<str>,
        /// The frame's index in the dataset.
        frame: usize,
    },
}

impl FrameSource {
    /// The name written into `frame_source` and error messages (the path as given).
    pub fn name(&self) -> String {
        match self {
            FrameSource::File(p) => p.display().to_string(),
            FrameSource::Memory { name, .. } => name.to_string(),
            FrameSource::Hdf5 {
                file,
                dataset,
                frame,
            } => format!("{}::{dataset}[{frame}]", file.display()),
        }
    }
}

impl fmt::Debug for FrameSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameSource::File(p) => write!(f, "File({})", p.display()),
            FrameSource::Memory { name, bytes } => {
                write!(f, "Memory({name}, {} bytes)", bytes.len())
            }
            FrameSource::Hdf5 { .. } => write!(f, "Hdf5({})", self.name()),
        }
    }
}

impl From<PathBuf> for FrameSource {
    fn from(p: PathBuf) -> Self {
        FrameSource::File(p)
    }
}

/// Why the list of inputs could not be built. Each variant's doc says whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A glob pattern is malformed (user).
    #[error("bad glob pattern {pattern:?}: {message}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// What the glob parser said.
        message: String,
    },
    /// A glob pattern or a directory gave no frame file (user).
    #[error("{0}: no frame file found (looked for *.cbf and *.cbf.gz)")]
    NoFrames(String),
    /// A directory or list file could not be read (environment).
    #[error("{path}: {source}")]
    Io {
        /// The directory or list file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// An HDF5 file was given but this build has no HDF5 support (user or build).
    #[error("{0}: HDF5 input needs xrdct built with the `hdf5` feature")]
    NeedsHdf5(String),
    /// An HDF5 file cannot be opened, has no frame dataset, or its frame range is malformed
    /// (user or file).
    #[error("{path}: {message}")]
    Hdf5 {
        /// The file (with its `::START:STOP` range, if any).
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// No input was given at all (user).
    #[error("no input frames given")]
    Empty,
}

/// Compares two names the way a person reads them: runs of digits compare by value, so
/// `f_2.cbf` comes before `f_10.cbf`; other characters compare as text. Names that compare
/// equal this way (`f_01`, `f_1`) are ordered by plain text so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let dx = strip_zeros(&x[..nx]);
                let dy = strip_zeros(&y[..ny]);
                let ord = dx.len().cmp(&dy.len()).then_with(|| dx.cmp(dy));
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn strip_zeros(digits: &[u8]) -> &[u8] {
    let n = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[n..]
}

/// Sorts paths naturally by their full text.
pub fn natural_sort(paths: &mut [PathBuf]) {
    paths.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
}

/// Whether a file name looks like a frame (`.cbf` or `.cbf.gz`, any case).
pub fn is_frame_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".cbf") || name.ends_with(".cbf.gz")
}

/// The frame number in a file name: the last run of digits before the extension
/// (`.cbf`, `.cbf.gz`, any case), e.g. `scan_00042.cbf` → 42, `s2_0007_a.cbf.gz` → 7. `None` when
/// that part of the name has no digit (or the number does not fit in a `u64`).
///
/// ```
/// use std::path::Path;
/// use xrdct_pipeline::inputs::frame_number;
/// assert_eq!(frame_number(Path::new("/data/scan_00042.cbf")), Some(42));
/// assert_eq!(frame_number(Path::new("run3_frame.cbf")), Some(3));
/// assert_eq!(frame_number(Path::new("dark.cbf.gz")), None);
/// ```
pub fn frame_number(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    FrameName::parse(name)?.number()
}

/// A frame file name cut around its frame number: `prefix`, the digits, `suffix` (extension
/// included), e.g. `scan_`, `00042`, `.cbf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameName<'a> {
    pub prefix: &'a str,
    pub digits: &'a str,
    pub suffix: &'a str,
}

impl<'a> FrameName<'a> {
    /// Splits a file name at the last run of digits before its extension.
    pub fn parse(name: &'a str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        let ext = [".cbf.gz", ".cbf"]
            .iter()
            .find(|e| lower.ends_with(*e))
            .map_or(0, |e| e.len());
        let stem = &name.as_bytes()[..name.len() - ext];
        let end = stem.iter().rposition(u8::is_ascii_digit)? + 1;
        let start = stem[..end]
            .iter()
            .rposition(|c| !c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        // The cuts fall next to ASCII digits: they are character boundaries.
        Some(FrameName {
            prefix: &name[..start],
            digits: &name[start..end],
            suffix: &name[end..],
        })
    }

    /// The number the digits spell, if it fits in a `u64`.
    pub fn number(&self) -> Option<u64> {
        self.digits.parse().ok()
    }
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn is_list_name(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    matches!(ext.as_deref(), Some("txt" | "lst" | "list"))
}

/// Expands the inputs of a command line into frames, in scan order:
/// - a directory: its `*.cbf` and `*.cbf.gz` files in natural order;
/// - a glob pattern (`*`, `?`, `[`): the matching files in natural order;
/// - `@FILE`, or an existing file ending in `.txt`, `.lst` or `.list`: a list file, one path
///   per line (blank lines and `#` comments skipped; relative paths are relative to the list
///   file's folder);
/// - an HDF5 file (`.h5`, `.hdf5`, `.nxs`, `.nx5`), optionally with a frame range
///   `FILE.h5::START:STOP` (either bound may be left out): one frame per image of its frame
///   dataset (found as `readers::hdf5` describes; needs the `hdf5` feature);
/// - anything else: one frame file, kept even if it does not exist (the pipeline records it
///   as a failed frame, so a missing file in the middle of a scan does not shift the others).
pub fn resolve_inputs<S: AsRef<str>>(args: &[S]) -> Result<Vec<FrameSource>, InputError> {
    let mut out = Vec::new();
    for arg in args {
        let arg = arg.as_ref();
        let path = Path::new(arg);
        if let Some((file, range)) = hdf5_argument(arg)? {
            out.extend(hdf5_frames(arg, file, range)?);
        } else if let Some(list) = arg.strip_prefix('@') {
            out.extend(
                read_list_file(Path::new(list))?
                    .into_iter()
                    .map(FrameSource::File),
            );
        } else if path.is_dir() {
            out.extend(list_directory(path)?.into_iter().map(FrameSource::File));
        } else if path.is_file() && is_list_name(path) {
            out.extend(read_list_file(path)?.into_iter().map(FrameSource::File));
        } else if is_glob(arg) && !path.exists() {
            out.extend(expand_glob(arg)?.into_iter().map(FrameSource::File));
        } else {
            out.push(FrameSource::File(path.to_path_buf()));
        }
    }
    if out.is_empty() {
        return Err(InputError::Empty);
    }
    Ok(out)
}

/// Whether a file name is an HDF5 file's (`.h5`, `.hdf5`, `.nxs`, `.nx5`, any case).
pub fn is_hdf5_name(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    matches!(ext.as_deref(), Some("h5" | "hdf5" | "nxs" | "nx5"))
}

/// `FILE.h5` or `FILE.h5::START:STOP` → the file and the frame range (`0..usize::MAX` when
/// absent); `None` for an argument that does not name an HDF5 file.
fn hdf5_argument(arg: &str) -> Result<Option<(&Path, std::ops::Range<usize>)>, InputError> {
    let (file, range) = match arg.rsplit_once("::") {
        Some((file, range)) if is_hdf5_name(Path::new(file)) => (file, Some(range)),
        _ => (arg, None),
    };
    let path = Path::new(file);
    if !is_hdf5_name(path) {
        return Ok(None);
    }
    let Some(range) = range else {
        return Ok(Some((path, 0..usize::MAX)));
    };
    let bad = || InputError::Hdf5 {
        path: PathBuf::from(arg),
        message: format!("frame range {range:?} is not START:STOP (e.g. 10:20, :100, 5:)"),
    };
    let (start, stop) = range.split_once(':').ok_or_else(bad)?;
    let bound = |s: &str, default: usize| {
        let s = s.trim();
        if s.is_empty() {
            Ok(default)
        } else {
            s.parse::<usize>().map_err(|_| bad())
        }
    };
    let (start, stop) = (bound(start, 0)?, bound(stop, usize::MAX)?);
    if start > stop {
        return Err(bad());
    }
    Ok(Some((path, start..stop)))
}

#[cfg(feature = "hdf5")]
fn hdf5_frames(
    _arg: &str,
    file: &Path,
    range: std::ops::Range<usize>,
) -> Result<Vec<FrameSource>, InputError> {
    crate::readers::hdf5::frames_of(file, range)
}

#[cfg(not(feature = "hdf5"))]
fn hdf5_frames(
    arg: &str,
    _file: &Path,
    _range: std::ops::Range<usize>,
) -> Result<Vec<FrameSource>, InputError> {
    Err(InputError::NeedsHdf5(arg.to_string()))
}

/// Files matching a glob pattern, natural order.
pub fn expand_glob(pattern: &str) -> Result<Vec<PathBuf>, InputError> {
    let paths = glob::glob(pattern).map_err(|e| InputError::BadPattern {
        pattern: pattern.to_string(),
        message: e.msg.to_string(),
    })?;
    let mut v: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    if v.is_empty() {
        return Err(InputError::NoFrames(pattern.to_string()));
    }
    natural_sort(&mut v);
    Ok(v)
}

/// The frame files (`*.cbf`, `*.cbf.gz`) of a directory, natural order.
pub fn list_directory(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut v = frame_files(dir).map_err(|source| InputError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    if v.is_empty() {
        return Err(InputError::NoFrames(dir.display().to_string()));
    }
    natural_sort(&mut v);
    Ok(v)
}

pub(crate) fn frame_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let p = entry.path();
        if is_frame_name(&p) && entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            v.push(p);
        }
    }
    Ok(v)
}

/// Reads a list file: one path per line, `#` comments and blank lines skipped, relative
/// paths taken relative to the list file's folder.
pub fn read_list_file(path: &Path) -> Result<Vec<PathBuf>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let v: Vec<PathBuf> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let p = Path::new(l);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        })
        .collect();
    if v.is_empty() {
        return Err(InputError::NoFrames(path.display().to_string()));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_of_scan_names() {
        let mut v = vec![
            "a_10.cbf",
            "a_9.cbf",
            "a_100.cbf",
            "a_010.cbf",
            "b_1.cbf",
            "a_1.cbf",
            "a.cbf",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "a.cbf",
                "a_1.cbf",
                "a_9.cbf",
                "a_010.cbf",
                "a_10.cbf",
                "a_100.cbf",
                "b_1.cbf"
            ]
        );
        assert_eq!(natural_cmp("x2y10", "x2y9"), Ordering::Greater);
        assert_eq!(natural_cmp("", ""), Ordering::Equal);
    }

    #[test]
    fn natural_cmp_is_a_total_order_on_digit_runs() {
        // Very long digit runs do not overflow.
        let a = format!("f_{}", "9".repeat(40));
        let b = format!("f_1{}", "0".repeat(40));
        assert_eq!(natural_cmp(&a, &b), Ordering::Less);
    }

    #[test]
    fn frame_numbers_are_the_last_digits_before_the_extension() {
        let split = |n| {
            let f = FrameName::parse(n).unwrap();
            (f.prefix, f.digits, f.suffix)
        };
        assert_eq!(split("scan_00042.cbf"), ("scan_", "00042", ".cbf"));
        assert_eq!(split("s2_0007_a.CBF.gz"), ("s2_", "0007", "_a.CBF.gz"));
        assert_eq!(split("12.cbf"), ("", "12", ".cbf"));
        assert_eq!(split("x9.cbf.gz"), ("x", "9", ".cbf.gz"));
        assert!(FrameName::parse("dark.cbf").is_none());
        // The digits of the extension are not the frame number.
        assert!(FrameName::parse("frame.cbf").is_none());
        assert_eq!(frame_number(Path::new("d1/f_é_0010.cbf")), Some(10));
        assert_eq!(frame_number(Path::new("f_0.cbf")), Some(0));
        assert_eq!(
            frame_number(Path::new(&format!("f_{}.cbf", "9".repeat(30)))),
            None
        );
    }

    #[test]
    fn directories_globs_and_list_files() {
        let dir = tempfile::tempdir().unwrap();
        for i in [1, 2, 10, 11] {
            std::fs::write(dir.path().join(format!("f_{i}.cbf")), b"x").unwrap();
        }
        std::fs::write(dir.path().join("notes.md"), b"x").unwrap();
        let names = |v: Vec<FrameSource>| -> Vec<String> {
            v.iter()
                .map(|s| match s {
                    FrameSource::File(p) => p.file_name().unwrap().to_string_lossy().into_owned(),
                    other => other.name(),
                })
                .collect()
        };
        let d = dir.path().to_string_lossy().into_owned();
        assert_eq!(
            names(resolve_inputs(&[&d]).unwrap()),
            ["f_1.cbf", "f_2.cbf", "f_10.cbf", "f_11.cbf"]
        );
        let g = format!("{d}/f_1*.cbf");
        assert_eq!(
            names(resolve_inputs(&[&g]).unwrap()),
            ["f_1.cbf", "f_10.cbf", "f_11.cbf"]
        );
        let list = dir.path().join("scan.txt");
        std::fs::write(&list, "# scan\nf_2.cbf\n\nmissing.cbf\nf_1.cbf\n").unwrap();
        let l = list.to_string_lossy().into_owned();
        assert_eq!(
            names(resolve_inputs(&[&l]).unwrap()),
            ["f_2.cbf", "missing.cbf", "f_1.cbf"]
        );
        assert_eq!(
            names(resolve_inputs(&[format!("@{l}")]).unwrap()),
            ["f_2.cbf", "missing.cbf", "f_1.cbf"]
        );
        // A plain path that does not exist is kept: it becomes a recorded failure.
        assert_eq!(
            names(resolve_inputs(&["nowhere/x.cbf"]).unwrap()),
            ["x.cbf"]
        );
        assert!(matches!(
            resolve_inputs(&[format!("{d}/zz*.cbf")]),
            Err(InputError::NoFrames(_))
        ));
        assert!(matches!(
            resolve_inputs::<&str>(&[]),
            Err(InputError::Empty)
        ));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            resolve_inputs(&[empty.path().to_str().unwrap()]),
            Err(InputError::NoFrames(_))
        ));
    }
}

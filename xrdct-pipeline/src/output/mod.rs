//! What every output shares, whatever its format: one temporary-file scheme (`OUT.part`,
//! renamed when complete, so that a reader never sees half a file), one table of radial
//! units, timestamps, and the error type. The CSV writer is here; the NeXus writer is in
//! `crate::nexus` (feature `hdf5`).

mod csv;
#[cfg(test)]
pub(crate) mod fixtures;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use csv::CsvWriter;

/// NeXus `units` and a label for a pyFAI unit name.
pub fn unit_attributes(unit: &str) -> (&'static str, &'static str) {
    match unit {
        "2th_deg" => ("deg", "2θ (deg)"),
        "2th_rad" => ("rad", "2θ (rad)"),
        "q_nm^-1" => ("1/nm", "q (nm⁻¹)"),
        "q_A^-1" => ("1/angstrom", "q (Å⁻¹)"),
        "r_mm" => ("mm", "r (mm)"),
        "r_m" => ("m", "r (m)"),
        _ => ("", "radial"),
    }
}

/// Why an output file could not be written. Each variant's doc says whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The HDF5 library failed (environment: disk full, permissions, a corrupt file).
    #[cfg(feature = "hdf5")]
    #[error("{path}: HDF5: {source}")]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The library's error.
        source: hdf5::Error,
    },
    /// A file system operation failed (environment).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// `--resume` found nothing to resume (user).
    #[error("cannot resume: {0}")]
    Resume(String),
    /// A row has the wrong number of bins (a bug in the reducer).
    #[error("row of frame {index} has {got} bins, the output has {expected}")]
    RowLength {
        /// Frame index.
        index: usize,
        /// Bins of the output.
        expected: usize,
        /// Bins of the row.
        got: usize,
    },
}

/// The temporary name an output is written under: `OUT.part`, beside `OUT` so that the
/// final rename stays on one file system.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".part");
    PathBuf::from(s)
}

/// Renames a complete `OUT.part` to `OUT` (see [`partial_path`]).
pub fn publish(part: &Path, path: &Path) -> Result<(), OutputError> {
    std::fs::rename(part, path).map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// UTC time in ISO 8601 (`2026-11-26T22:20:25Z`), as NeXus wants for `start_time`.
pub fn iso8601_utc(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601_utc(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_731_625);
        assert_eq!(iso8601_utc(t), "2026-11-26T22:20:25Z");
        let leap = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(iso8601_utc(leap), "2000-02-29T00:00:00Z");
    }
}

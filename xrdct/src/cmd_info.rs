//! `xrdct info FILE [--json]`: sections, dimensions, element type, compression, binary size,
//! MD5 presence and check, and the parsed header of a CBF file.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use cbf_format::{ByteOrder, CbfFile, Header, Md5Status, ReadOptions, Section};
use serde_json::{Value, json};

use crate::CmdResult;

/// Arguments of `xrdct info`.
#[derive(clap::Args)]
pub struct Args {
    /// CBF file (`.cbf` or `.cbf.gz`).
    pub file: PathBuf,
    /// Print JSON (stable keys) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `xrdct info`.
pub fn run(args: Args) -> CmdResult {
    let file = CbfFile::open(&args.file, &ReadOptions::default())?;
    let info = describe(&args.file, &file);
    let text = if args.json {
        serde_json::to_string_pretty(&info)? + "\n"
    } else {
        format_text(&info)
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A closed pipe (`xrdct info F | head`) is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Header keys in the order of the miniCBF header.
const HEADER_ORDER: &[&str] = &[
    "detector",
    "timestamp",
    "pixel_size_m",
    "sensor_material",
    "sensor_thickness_m",
    "exposure_time_s",
    "exposure_period_s",
    "tau_s",
    "count_cutoff",
    "threshold_setting_ev",
    "wavelength_a",
    "detector_distance_m",
    "detector_voffset_m",
    "beam_xy_px",
    "flux",
    "filter_transmission",
    "start_angle_deg",
    "angle_increment_deg",
    "detector_2theta_deg",
    "polarization",
    "alpha_deg",
    "kappa_deg",
    "phi_deg",
    "phi_increment_deg",
    "omega_deg",
    "omega_increment_deg",
    "chi_deg",
    "chi_increment_deg",
    "oscillation_axis",
    "n_oscillations",
];

fn md5_json(s: &Section<'_>) -> Value {
    match s.md5_status() {
        Md5Status::Absent => json!({ "present": false, "ok": null, "computed": s.computed_md5() }),
        status => json!({
            "present": true,
            "ok": status == Md5Status::Ok,
            "header": s.mime().content_md5,
            "computed": s.computed_md5(),
        }),
    }
}

fn section_json(s: &Section<'_>) -> Value {
    let m = s.mime();
    json!({
        "index": s.index(),
        "binary_id": m.binary_id,
        "dims": s.dims(),
        "element_count": s.element_count(),
        "element_type": s.element_type().numpy_name(),
        "element_type_cbf": s.element_type().cbf_name(),
        "compression": s.compression().name(),
        "byte_order": match m.byte_order { ByteOrder::LittleEndian => "little_endian", ByteOrder::BigEndian => "big_endian" },
        "binary_size": m.binary_size,
        "padding": m.padding,
        "payload_offset": s.payload_offset(),
        "md5": md5_json(s),
        "complete": s.is_complete(),
        "mime": m.lines.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
    })
}

fn header_json(h: &Header) -> Value {
    json!({
        "detector": h.detector,
        "timestamp": h.timestamp,
        "pixel_size_m": h.pixel_size,
        "sensor_material": h.sensor_material,
        "sensor_thickness_m": h.sensor_thickness,
        "exposure_time_s": h.exposure_time,
        "exposure_period_s": h.exposure_period,
        "tau_s": h.tau,
        "count_cutoff": h.count_cutoff,
        "threshold_setting_ev": h.threshold_setting,
        "wavelength_a": h.wavelength,
        "detector_distance_m": h.detector_distance,
        "detector_voffset_m": h.detector_voffset,
        "beam_xy_px": h.beam_xy,
        "flux": h.flux,
        "filter_transmission": h.filter_transmission,
        "start_angle_deg": h.start_angle,
        "angle_increment_deg": h.angle_increment,
        "detector_2theta_deg": h.detector_2theta,
        "polarization": h.polarization,
        "alpha_deg": h.alpha,
        "kappa_deg": h.kappa,
        "phi_deg": h.phi,
        "phi_increment_deg": h.phi_increment,
        "omega_deg": h.omega,
        "omega_increment_deg": h.omega_increment,
        "chi_deg": h.chi,
        "chi_increment_deg": h.chi_increment,
        "oscillation_axis": h.oscillation_axis,
        "n_oscillations": h.n_oscillations,
        "unknown_lines": h.unknown_lines,
    })
}

fn describe(path: &std::path::Path, file: &CbfFile<'_>) -> Value {
    let h = file.header();
    json!({
        "file": path.display().to_string(),
        "gzip": file.was_gzip(),
        "cbf_size": file.bytes().len(),
        "magic": h.magic,
        "data_block": h.data_block,
        "header_convention": h.convention,
        "complete": CbfFile::is_complete(file.bytes()),
        "sections": file.sections().iter().map(section_json).collect::<Vec<_>>(),
        "header": header_json(h),
    })
}

fn format_text(info: &Value) -> String {
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        v => v.to_string(),
    };
    let mut t = String::new();
    let gz = if info["gzip"] == true { " (gzip)" } else { "" };
    let _ = writeln!(t, "file          {}{gz}", s(&info["file"]));
    let _ = writeln!(t, "first line    {}", s(&info["magic"]));
    let _ = writeln!(t, "data block    {}", s(&info["data_block"]));
    let _ = writeln!(t, "convention    {}", s(&info["header_convention"]));
    let sections = info["sections"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let _ = writeln!(t, "sections      {}", sections.len());
    for sec in sections {
        let dims: Vec<String> = sec["dims"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| d.to_string())
            .collect();
        let md5 = match (&sec["md5"]["present"], &sec["md5"]["ok"]) {
            (Value::Bool(true), Value::Bool(true)) => "present, ok",
            (Value::Bool(true), _) => "present, MISMATCH",
            _ => "absent",
        };
        let _ = writeln!(
            t,
            "  [{}] id {}  dims {} (fastest first)  {}  {}  {} bytes  MD5 {}{}",
            s(&sec["index"]),
            s(&sec["binary_id"]),
            dims.join(" x "),
            s(&sec["element_type"]),
            s(&sec["compression"]),
            s(&sec["binary_size"]),
            md5,
            if sec["complete"] == true {
                ""
            } else {
                "  (incomplete)"
            },
        );
    }
    let h = &info["header"];
    let _ = writeln!(t, "header");
    for key in HEADER_ORDER {
        if !h[*key].is_null() {
            let _ = writeln!(t, "  {key:<22} {}", s(&h[*key]));
        }
    }
    for line in h["unknown_lines"].as_array().into_iter().flatten() {
        let _ = writeln!(t, "  {}", s(line));
    }
    t
}

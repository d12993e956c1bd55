//! Writes the seed corpus of the CBF and byte-offset fuzz targets (`fuzz/seeds/<target>/`):
//! small files, a few KB each.
//!
//! ```sh
//! cargo run -p cbf-format --example fuzz_seeds -- fuzz/seeds [REAL.cbf ...]
//! ```
//!
//! - `parse_cbf/`: frames written by this crate's writers (miniCBF with a full Pilatus header
//!   and with none, their 4095 bytes of padding cut short; imgCIF with three arrays of three
//!   element types), and
//!   files laid out by hand as other writers do: `x-CBF_PACKED` and `x-CBF_PACKED_V2` (flat
//!   prediction), an uncompressed FIT2D-style file whose dimensions are only in
//!   `_array_structure_list`, an XDS-style file (padded MIME values, no MD5, the closing
//!   boundary right after the payload), big-endian reals, and a gzip file.
//!   Each `REAL.cbf` given is cut down to its first 8 × 6 pixels: its own CIF text and MIME
//!   header, with sizes, dimensions (also in `_array_structure_list`) and MD5 rewritten and
//!   the padding shortened.
//! - `byteoffset_decode/`, `byteoffset_simd/`: a control byte, then a byte-offset stream
//!   (every escape width); `byteoffset_roundtrip/`: a type byte, then little-endian values.
//!
//! Every CBF seed is checked to parse (with MD5 verification) and decode.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use cbf_format::writer::{ImgCifWriter, MiniCbfWriter, PADDING, WriteCompression};
use cbf_format::{CbfFile, Header, MARKER, ReadOptions, SECTION_END, SECTION_START};
use md5::{Digest, Md5};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn position(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The writers' 4095 NUL bytes after each payload, cut to `keep` (and the header line
/// saying so).
fn unpad(bytes: &[u8], keep: usize) -> Vec<u8> {
    let end = b"\r\n--CIF-BINARY-FORMAT-SECTION----";
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some(p) = position(rest, end) {
        // The payload may end with zero bytes too: the padding is the last PADDING.
        let pad = rest[..p]
            .iter()
            .rev()
            .take_while(|&&b| b == 0)
            .count()
            .min(PADDING);
        out.extend_from_slice(&rest[..p - pad.saturating_sub(keep)]);
        out.extend_from_slice(end);
        rest = &rest[p + end.len()..];
    }
    out.extend_from_slice(rest);
    let (from, to) = (
        b"X-Binary-Size-Padding: 4095".as_slice(),
        format!("X-Binary-Size-Padding: {keep}").into_bytes(),
    );
    while let Some(p) = position(&out, from) {
        out.splice(p..p + from.len(), to.iter().copied());
    }
    out
}

fn md5_base64(payload: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(payload))
}

/// One binary section with these MIME lines (CRLF), the marker, the payload, `padding` NUL
/// bytes and the closing boundary on its own line.
fn section(mime: &[String], payload: &[u8], padding: usize) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(SECTION_START);
    out.extend_from_slice(b"\r\n");
    for line in mime {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&MARKER);
    out.extend_from_slice(payload);
    out.resize(out.len() + padding, 0);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(SECTION_END);
    out.extend_from_slice(b"\r\n");
    out
}

/// A CCP4-style packed stream (cbflib's `x-CBF_PACKED`, or `_V2`) for flat prediction: one
/// element per block, each a 16-bit offset from the previous value.
fn packed_flat(values: &[i32], v2: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for word in [values.len() as u64, 0, 0, 0] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    // Block header: low 3 bits log2(count) = 0, high bits the size code of 16 bits.
    let (header, header_bits) = if v2 { (14 << 3, 7) } else { (6 << 3, 6) };
    let (mut acc, mut nbits) = (0u64, 0u32);
    let mut push = |out: &mut Vec<u8>, v: u64, n: u32| {
        acc |= (v & ((1 << n) - 1)) << nbits;
        nbits += n;
        while nbits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            nbits -= 8;
        }
    };
    let mut prev = 0i32;
    for &v in values {
        let delta = v.wrapping_sub(prev);
        assert!(i16::try_from(delta).is_ok(), "16-bit offsets only");
        push(&mut out, header, header_bits);
        push(&mut out, delta as u16 as u64, 16);
        prev = v;
    }
    push(&mut out, 0, 7);
    out
}

fn pattern(n: usize) -> Vec<i32> {
    (0..n as i32)
        .map(|i| match i % 23 {
            0 => -1,
            11 => -2,
            _ => (i * 7919) % 400,
        })
        .collect()
}

fn pilatus_header() -> Header {
    Header {
        detector: Some("PILATUS3 6M, S/N 60-0000, fuzz".into()),
        timestamp: Some("2024-03-05T09:01:46.613".into()),
        pixel_size: Some([172e-6, 172e-6]),
        sensor_material: Some("Silicon".into()),
        sensor_thickness: Some(0.00045),
        exposure_time: Some(0.0964),
        exposure_period: Some(0.1),
        tau: Some(124e-9),
        count_cutoff: Some(1_048_575),
        threshold_setting: Some(6342.0),
        wavelength: Some(0.9763),
        detector_distance: Some(0.3),
        beam_xy: Some([8.5, 6.25]),
        flux: Some(1.5e12),
        start_angle: Some(10.0),
        angle_increment: Some(0.1),
        polarization: Some(0.99),
        omega: Some(-144.0),
        omega_increment: Some(0.1),
        oscillation_axis: Some("X.CW +SLOW".into()),
        n_oscillations: Some(1),
        unknown_lines: vec!["# Gain_setting: autog (vrf = 1.000)".into()],
        ..Header::default()
    }
}

/// (file name, bytes)
fn cbf_seeds() -> Result<Vec<(String, Vec<u8>)>> {
    let mut seeds = Vec::new();
    let header = pilatus_header();

    // miniCBF as Pilatus detectors write it, the escapes of every width; the padding cut to
    // 64 bytes (4095 would make this seed, and what the fuzzer makes of it, 5 times larger).
    let mut px = pattern(16 * 12);
    px[5] = 70_000;
    px[6] = -70_000;
    px[40] = i32::MAX;
    px[41] = i32::MIN;
    let mini = MiniCbfWriter::new(&header).write(&[16, 12], &px)?;
    seeds.push(("minicbf_pilatus_16x12.cbf".into(), unpad(&mini, 64)));
    let small = MiniCbfWriter::new(&Header::default()).write(&[5, 4], &pattern(20))?;
    seeds.push(("minicbf_5x4_unpadded.cbf".into(), unpad(&small, 3)));
    let u16px: Vec<u16> = (0..9 * 7).map(|i| (i * 977 % 65_536) as u16).collect();
    let mini16 = MiniCbfWriter::new(&header)
        .data_block("eiger_u16")
        .write(&[9, 7], &u16px)?;
    seeds.push(("minicbf_u16_9x7_unpadded.cbf".into(), unpad(&mini16, 0)));

    // imgCIF with free items, a header, and three arrays of different types and compressions.
    let mut w = ImgCifWriter::new("three_arrays");
    w.item("_diffrn.id", "XRDCT")
        .item("_diffrn_source.type", "Diamond Light Source Beamline I12")
        .item("_array_intensities.overload", "1048575")
        .header("PILATUS_1.2", &header);
    let a: Vec<u16> = (0..6 * 4).map(|i| i * 2731).collect();
    let b: Vec<i16> = (0..4 * 3 * 2).map(|i| (i * 4099) as i16).collect();
    let c: Vec<i64> = (0..5).map(|i| (i - 2) * 3_000_000_000).collect();
    w.add_array(&[6, 4], &a, WriteCompression::None)?
        .add_array(&[4, 3, 2], &b, WriteCompression::ByteOffset)?
        .add_array(&[5], &c, WriteCompression::ByteOffset)?;
    seeds.push(("imgcif_three_arrays.cbf".into(), unpad(&w.to_bytes(), 1)));

    // Packed, flat prediction, V1 and V2 (cbflib's writers; no detector in the real files
    // test set writes V2).
    let pk = pattern(8 * 5);
    for (v2, name) in [(false, "x-CBF_PACKED"), (true, "x-CBF_PACKED_V2")] {
        let payload = packed_flat(&pk, v2);
        let mime = vec![
            format!(
                "Content-Type: application/octet-stream;\r\n     conversions=\"{name}\"; \"flat\""
            ),
            "Content-Transfer-Encoding: BINARY".into(),
            format!("X-Binary-Size: {}", payload.len()),
            "X-Binary-ID: 1".into(),
            "X-Binary-Element-Type: \"signed 32-bit integer\"".into(),
            "X-Binary-Element-Byte-Order: LITTLE_ENDIAN".into(),
            format!("Content-MD5: {}", md5_base64(&payload)),
            "X-Binary-Number-of-Elements: 40".into(),
            "X-Binary-Size-Fastest-Dimension: 8".into(),
            "X-Binary-Size-Second-Dimension: 5".into(),
            "X-Binary-Size-Third-Dimension: 1".into(),
            "X-Binary-Size-Padding: 4".into(),
        ];
        let mut f =
            b"###CBF: VERSION 1.7.10\r\n\r\ndata_packed\r\n\r\n_array_data.data\r\n;\r\n".to_vec();
        f.extend_from_slice(&section(&mime, &payload, 4));
        f.extend_from_slice(b";\r\n");
        let file = if v2 {
            "packed_v2_flat_8x5.cbf"
        } else {
            "packed_flat_8x5.cbf"
        };
        seeds.push((file.into(), f));
    }

    // FIT2D export (CBFlib 0.7.5): no conversions, no byte order line, no MIME dimensions;
    // those are in _array_structure_list, precedence 1 the fastest.
    let raw: Vec<u8> = pattern(7 * 3)
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut f = b"###CBF: VERSION 1.3.2\r\n\r\ndata_fit2d\r\n\r\n\
        _array_structure.byte_order little_endian\r\n\
        _array_structure.compression_type none\r\n\
        loop_\r\n_array_structure_list.array_id\r\n_array_structure_list.index\r\n\
        _array_structure_list.dimension\r\n_array_structure_list.precedence\r\n\
        _array_structure_list.direction\r\n\
        image_1 1 7 1 increasing\r\nimage_1 2 3 2 increasing\r\n\r\n\
        _array_data.array_id image_1\r\n_array_data.binary_id 1\r\n_array_data.data\r\n;\r\n"
        .to_vec();
    let mime = vec![
        "Content-Type: application/octet-stream".into(),
        "Content-Transfer-Encoding: BINARY".into(),
        format!("X-Binary-Size: {}", raw.len()),
        "X-Binary-ID: 1".into(),
        "X-Binary-Element-Type: \"signed 32-bit integer\"".into(),
        format!("Content-MD5: {}", md5_base64(&raw)),
    ];
    f.extend_from_slice(&section(&mime, &raw, 0));
    f.extend_from_slice(b";\r\n");
    seeds.push(("fit2d_style_none_7x3.cbf".into(), f));

    // XDS: padded MIME values, no MD5, the closing boundary right after the payload, NUL
    // bytes after the closing ';'.
    let xds_px: Vec<i32> = (0..6 * 5).map(|i| (i % 15) - 7).collect();
    let payload = byteoffset::encode(&xds_px);
    let mut f = b"###CBF: Version July 2008 generated by XDS\r\n\r\ndata_X-CORRECTIONS.cbf\r\n\r\n\
        _array_data.header_convention \"XDS special\"\r\n_array_data.header_contents\r\n;\r\n;\r\n\r\n\
        _array_data.data\r\n;\r\n--CIF-BINARY-FORMAT-SECTION--\r\n\
        Content-Type: application/octet-stream;\r\n     conversions=\"x-CBF_BYTE_OFFSET\"\r\n\
        Content-Transfer-Encoding: BINARY\r\n"
        .to_vec();
    write!(
        f,
        "X-Binary-Size:    {n}\r\nX-Binary-ID: 1\r\nX-Binary-Element-Type: \"signed 32-bit integer\"\r\n\
         X-Binary-Element-Byte-Order: LITTLE_ENDIAN\r\nX-Binary-Number-of-Elements:    {n}\r\n\
         X-Binary-Size-Fastest-Dimension:     6\r\nX-Binary-Size-Second-Dimension:     5\r\n\r\n",
        n = payload.len()
    )?;
    f.extend_from_slice(&MARKER);
    f.extend_from_slice(&payload);
    f.extend_from_slice(SECTION_END);
    f.extend_from_slice(b"\r\n;\r\n");
    f.resize(f.len() + 32, 0);
    seeds.push(("xds_style_6x5.cbf".into(), f));

    // Uncompressed big-endian reals (readable by `decode`, not as i32).
    let reals: Vec<u8> = (0..4 * 3)
        .flat_map(|i| (i as f32 * 0.25 - 1.0).to_be_bytes())
        .collect();
    let mime = vec![
        "Content-Type: application/octet-stream; conversions=\"x-CBF_NONE\"".into(),
        format!("X-Binary-Size: {}", reals.len()),
        "X-Binary-Element-Type: \"signed 32-bit real IEEE\"".into(),
        "X-Binary-Element-Byte-Order: BIG_ENDIAN".into(),
        "X-Binary-Number-of-Elements: 12".into(),
        "X-Binary-Size-Fastest-Dimension: 4".into(),
        "X-Binary-Size-Second-Dimension: 3".into(),
    ];
    let mut f = b"###CBF: VERSION 1.5\r\ndata_reals\r\n_array_data.data\r\n;\r\n".to_vec();
    f.extend_from_slice(&section(&mime, &reals, 0));
    f.extend_from_slice(b";\r\n");
    seeds.push(("big_endian_f32_4x3.cbf".into(), f));

    // Gzip (.cbf.gz), as some archives store frames.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&unpad(&small, 3))?;
    seeds.push(("minicbf_5x4.cbf.gz".into(), gz.finish()?));
    Ok(seeds)
}

/// `bytes` (a real file) cut down to its first `cols × rows` pixels, re-encoded with
/// byte-offset; its own text and MIME header, with sizes, dimensions and MD5 rewritten.
fn shrink(bytes: &[u8], cols: usize, rows: usize) -> Result<Vec<u8>> {
    let file = CbfFile::from_bytes(bytes)?;
    let s = &file.sections()[0];
    let fast = match s.dims() {
        [f, _, ..] => *f,
        d => return Err(format!("not 2-D: {d:?}").into()),
    };
    let all = s.decode_i32()?;
    let px: Vec<i32> = (0..rows)
        .flat_map(|r| all[r * fast..r * fast + cols].to_vec())
        .collect();
    let payload = byteoffset::encode(&px);
    let start = position(bytes, SECTION_START).ok_or("no section")?;
    let marker = position(bytes, &MARKER).ok_or("no marker")?;
    let end = position(bytes, SECTION_END).ok_or("no section end")?;

    let mut text = String::from_utf8_lossy(&bytes[..start]).into_owned();
    for row in &file.header().structure_list {
        let index = row.index.map_or(String::new(), |i| format!(" {i}"));
        let new = if row.dimension as usize == fast {
            cols
        } else {
            rows
        };
        text = text.replace(
            &format!("{}{index} {} ", row.array_id, row.dimension),
            &format!("{}{index} {new} ", row.array_id),
        );
    }
    let mut out = text.into_bytes();
    let mime = String::from_utf8_lossy(&bytes[start..marker]).into_owned();
    let mut padding = 0;
    for line in mime.split_inclusive('\n') {
        let (key, value) = line.split_once(':').unwrap_or((line, ""));
        let spaces = &value[..value.len() - value.trim_start().len()];
        let eol = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
        let new = match key.to_ascii_lowercase().as_str() {
            "x-binary-size" => Some(payload.len().to_string()),
            "x-binary-number-of-elements" => Some(px.len().to_string()),
            "x-binary-size-fastest-dimension" => Some(cols.to_string()),
            "x-binary-size-second-dimension" => Some(rows.to_string()),
            "content-md5" => Some(md5_base64(&payload)),
            "x-binary-size-padding" => {
                padding = 4;
                Some(padding.to_string())
            }
            _ => None,
        };
        match new {
            Some(v) => out.extend_from_slice(format!("{key}:{spaces}{v}{eol}").as_bytes()),
            None => out.extend_from_slice(line.as_bytes()),
        }
    }
    out.extend_from_slice(&MARKER);
    out.extend_from_slice(&payload);
    out.resize(out.len() + padding, 0);
    // After the payload: padding (NUL bytes, or whatever the camserver's buffer held), then
    // a line end, or nothing (XDS), before the boundary.
    let gap = &bytes[marker + MARKER.len() + s.payload().len()..end];
    let eol = [b"\r\n".as_slice(), b"\n"]
        .into_iter()
        .find(|e| gap.ends_with(e));
    out.extend_from_slice(eol.unwrap_or_default());
    let tail = &bytes[end..];
    let nuls = tail.iter().rev().take_while(|&&b| b == 0).count();
    out.extend_from_slice(&tail[..tail.len() - nuls.saturating_sub(16)]);
    Ok(out)
}

fn byteoffset_seeds() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    // (name, stream seed, round-trip seed)
    let mut out = Vec::new();
    let sets: [(&str, Vec<i64>); 5] = [
        (
            "small_deltas",
            (0..40).map(|i| (i * 37 % 200) - 3).collect(),
        ),
        ("escape16", vec![0, 5, 300, -300, 32_767, -32_768, 1, 2]),
        (
            "escape32",
            vec![0, 70_000, -70_000, 2_147_483_647, -2_147_483_648, 3],
        ),
        (
            "escape64",
            vec![0, 1 << 40, -(1 << 40), i64::MAX, i64::MIN, 7],
        ),
        (
            "gaps",
            (0..30).map(|i| if i % 5 == 0 { -1 } else { i }).collect(),
        ),
    ];
    for (k, (name, values)) in sets.iter().enumerate() {
        let fits32 = values.iter().all(|&v| i32::try_from(v).is_ok());
        let stream = if fits32 {
            let v: Vec<i32> = values.iter().map(|&v| v as i32).collect();
            byteoffset::encode(&v)
        } else {
            byteoffset::encode(values)
        };
        let mut seed = vec![2 + 5 * k as u8];
        seed.extend_from_slice(&stream);
        let (ty, le): (u8, Vec<u8>) = if fits32 {
            (
                0,
                values
                    .iter()
                    .flat_map(|&v| (v as i32).to_le_bytes())
                    .collect(),
            )
        } else {
            (2, values.iter().flat_map(|&v| v.to_le_bytes()).collect())
        };
        let mut roundtrip = vec![ty];
        roundtrip.extend_from_slice(&le);
        out.push((name.to_string(), seed, roundtrip));
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), bytes)?;
    println!("{:>6} {}", bytes.len(), dir.join(name).display());
    Ok(())
}

fn main() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: fuzz_seeds OUTDIR [REAL.cbf ...]")?,
    );
    let mut seeds = cbf_seeds()?;
    for real in args {
        let path = PathBuf::from(real);
        let bytes = std::fs::read(&path)?;
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        seeds.push((format!("real_{stem}_8x6.cbf"), shrink(&bytes, 8, 6)?));
    }
    let opts = ReadOptions::new().verify_md5(true);
    for (name, bytes) in &seeds {
        let file = CbfFile::from_bytes_with(bytes, &opts).map_err(|e| format!("{name}: {e}"))?;
        assert!(CbfFile::is_complete(bytes), "{name}: not complete");
        for s in file.sections() {
            s.decode().map_err(|e| format!("{name}: {e}"))?;
        }
        write(&out.join("parse_cbf"), name, bytes)?;
    }
    for (name, stream, roundtrip) in byteoffset_seeds() {
        write(&out.join("byteoffset_decode"), &name, &stream)?;
        write(&out.join("byteoffset_simd"), &name, &stream)?;
        write(&out.join("byteoffset_roundtrip"), &name, &roundtrip)?;
    }
    Ok(())
}

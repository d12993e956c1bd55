//! The text part of a CBF file: the CIF items this crate needs and the Dectris miniCBF
//! `# Key value` lines of `_array_data.header_contents`, parsed into typed fields.

use std::collections::HashMap;

/// The parsed text header of a CBF file.
///
/// Typed fields hold the Dectris miniCBF (`PILATUS_1.2`) lines that were recognised, in SI or
/// detector units as written (seconds, metres, ångström, degrees, eV); every other line of
/// `_array_data.header_contents` is kept verbatim, in order, in [`Header::unknown_lines`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// The first line (`###CBF: VERSION 1.5, ...`), if the file starts with `###CBF`.
    pub magic: Option<String>,
    /// The data block name (after `data_`).
    pub data_block: Option<String>,
    /// `_array_data.header_convention` (`PILATUS_1.2`, `XDS special`, ...).
    pub convention: Option<String>,
    /// `_array_data.header_contents`, verbatim (line ends normalised to `\n`).
    pub contents: Option<String>,
    /// `# Detector: ...`
    pub detector: Option<String>,
    /// The timestamp line (`# 2016-03-05T09:01:46.613`), as written.
    pub timestamp: Option<String>,
    /// `# Pixel_size 172e-6 m x 172e-6 m`: [x, y] in metres.
    pub pixel_size: Option<[f64; 2]>,
    /// `# Silicon sensor, thickness 0.000320 m`: the material.
    pub sensor_material: Option<String>,
    /// `# Silicon sensor, thickness 0.000320 m`: the thickness in metres.
    pub sensor_thickness: Option<f64>,
    /// `# Exposure_time 0.0964000 s`
    pub exposure_time: Option<f64>,
    /// `# Exposure_period 0.1000000 s`
    pub exposure_period: Option<f64>,
    /// `# Tau = 124.0e-09 s`
    pub tau: Option<f64>,
    /// `# Count_cutoff 388705 counts`
    pub count_cutoff: Option<i64>,
    /// `# Threshold_setting: 9000 eV`
    pub threshold_setting: Option<f64>,
    /// `# Wavelength 0.68890 A` (ångström)
    pub wavelength: Option<f64>,
    /// `# Detector_distance 0.16000 m`
    pub detector_distance: Option<f64>,
    /// `# Detector_Voffset 0.00000 m`
    pub detector_voffset: Option<f64>,
    /// `# Beam_xy (730.00, 865.00) pixels`
    pub beam_xy: Option<[f64; 2]>,
    /// `# Flux 1.396021`
    pub flux: Option<f64>,
    /// `# Filter_transmission 0.2547`
    pub filter_transmission: Option<f64>,
    /// `# Start_angle -144.0000 deg.`
    pub start_angle: Option<f64>,
    /// `# Angle_increment 0.1000 deg.`
    pub angle_increment: Option<f64>,
    /// `# Detector_2theta 30.0000 deg.`
    pub detector_2theta: Option<f64>,
    /// `# Polarization 0.990`
    pub polarization: Option<f64>,
    /// `# Alpha 0.0000 deg.`
    pub alpha: Option<f64>,
    /// `# Kappa 0.0000 deg.`
    pub kappa: Option<f64>,
    /// `# Phi 0.0000 deg.`
    pub phi: Option<f64>,
    /// `# Phi_increment 0.0000 deg.`
    pub phi_increment: Option<f64>,
    /// `# Omega -144.0000 deg.`
    pub omega: Option<f64>,
    /// `# Omega_increment 0.1000 deg.`
    pub omega_increment: Option<f64>,
    /// `# Chi -54.7000 deg.`
    pub chi: Option<f64>,
    /// `# Chi_increment 0.0000 deg.`
    pub chi_increment: Option<f64>,
    /// `# Oscillation_axis X.CW +SLOW`
    pub oscillation_axis: Option<String>,
    /// `# N_oscillations 1`
    pub n_oscillations: Option<i64>,
    /// Lines of `_array_data.header_contents` not recognised above, verbatim and in order.
    pub unknown_lines: Vec<String>,
    /// `_array_structure_list` rows: (array id, index, dimension, precedence).
    pub structure_list: Vec<StructureListRow>,
    /// `_array_data` rows: (array id, binary id), to match sections to `_array_structure_list`.
    pub array_binary_ids: Vec<(String, i64)>,
}

/// The `_array_structure_list` dimensions of each array, and the array of each binary id.
pub(crate) struct StructureDims<'h> {
    /// The first row's array id.
    only: Option<&'h str>,
    /// Whether the rows name more than one array (then sections find theirs by binary id).
    many: bool,
    dims: HashMap<&'h str, Vec<u64>>,
    /// Binary id → array id (the first `_array_data` row of an id).
    arrays: HashMap<i64, &'h str>,
}

impl StructureDims<'_> {
    /// Dimensions, fastest first, of the array that holds binary section `binary_id`.
    pub(crate) fn get(&self, binary_id: Option<i64>) -> &[u64] {
        let array = if self.many {
            binary_id.and_then(|b| self.arrays.get(&b).copied())
        } else {
            self.only
        };
        array
            .and_then(|a| self.dims.get(a))
            .map_or(&[], Vec::as_slice)
    }
}

/// One row of the `_array_structure_list` loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureListRow {
    /// `array_id` (empty when absent).
    pub array_id: String,
    /// `index`
    pub index: Option<i64>,
    /// `dimension`
    pub dimension: u64,
    /// `precedence` (1 = fastest).
    pub precedence: Option<i64>,
}

impl Header {
    /// Dimensions from `_array_structure_list` for the array that holds binary section
    /// `binary_id`, fastest first (by precedence). Empty when the loop is absent.
    pub fn structure_dims(&self, binary_id: Option<i64>) -> Vec<u64> {
        self.structure_dims_index().get(binary_id).to_vec()
    }

    /// [`Header::structure_dims`] for all sections of a file: rows grouped by array and
    /// sorted once, so that a file of many sections and a long loop costs sections + rows,
    /// not sections × rows.
    pub(crate) fn structure_dims_index(&self) -> StructureDims<'_> {
        let only = self.structure_list.first().map(|r| r.array_id.as_str());
        let many = self
            .structure_list
            .iter()
            .any(|r| Some(r.array_id.as_str()) != only);
        let mut rows: HashMap<&str, Vec<&StructureListRow>> = HashMap::new();
        for r in &self.structure_list {
            rows.entry(r.array_id.as_str()).or_default().push(r);
        }
        let dims = rows
            .into_iter()
            .map(|(array, mut rows)| {
                rows.sort_by_key(|r| r.precedence.or(r.index).unwrap_or(i64::MAX));
                (array, rows.iter().map(|r| r.dimension).collect())
            })
            .collect();
        let mut arrays = HashMap::new();
        if many {
            for (array, id) in &self.array_binary_ids {
                arrays.entry(*id).or_insert(array.as_str());
            }
        }
        StructureDims {
            only,
            many,
            dims,
            arrays,
        }
    }

    /// Parses the CIF text of a file (the bytes outside the binary sections, concatenated).
    pub(crate) fn parse_cif(text: &str) -> Header {
        let mut h = Header::default();
        if let Some(first) = text.lines().next()
            && first.starts_with("###CBF")
        {
            h.magic = Some(first.trim_end().to_string());
        }
        let tokens = tokenize(text);
        let mut i = 0;
        while i < tokens.len() {
            let t = &tokens[i];
            match t {
                Token::Word(w) if is_data_block(w) => {
                    if h.data_block.is_none() {
                        h.data_block = Some(w[5..].to_string());
                    }
                    i += 1;
                }
                Token::Word(w) if w.eq_ignore_ascii_case("loop_") => {
                    i += 1;
                    let mut tags = Vec::new();
                    while let Some(Token::Word(tag)) = tokens.get(i) {
                        if !tag.starts_with('_') {
                            break;
                        }
                        tags.push(tag.to_ascii_lowercase());
                        i += 1;
                    }
                    let mut values = Vec::new();
                    while let Some(tok) = tokens.get(i) {
                        match tok {
                            Token::Word(w)
                                if w.starts_with('_')
                                    || w.eq_ignore_ascii_case("loop_")
                                    || is_data_block(w) =>
                            {
                                break;
                            }
                            tok => values.push(tok.value()),
                        }
                        i += 1;
                    }
                    h.take_loop(&tags, &values);
                }
                Token::Word(tag) if tag.starts_with('_') => {
                    let value = match tokens.get(i + 1) {
                        Some(Token::Word(v)) if !v.starts_with('_') => Some(*v),
                        Some(t @ (Token::Quoted(_) | Token::Text(_))) => Some(t.value()),
                        _ => None,
                    };
                    if let Some(v) = value {
                        h.take_item(tag, v);
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        if let Some(c) = h.contents.take() {
            h.parse_contents(&c);
            h.contents = Some(c);
        }
        h
    }

    /// An item `tag value` (tag matched case-insensitively).
    fn take_item(&mut self, tag: &str, value: &str) {
        if tag.eq_ignore_ascii_case("_array_data.header_convention") {
            self.convention = Some(value.to_string());
        } else if tag.eq_ignore_ascii_case("_array_data.header_contents") {
            self.contents = Some(value.to_string());
        }
    }

    fn take_loop(&mut self, tags: &[String], values: &[&str]) {
        if tags.is_empty() {
            return;
        }
        let col = |name: &str| tags.iter().position(|t| t == name);
        let rows = values.chunks_exact(tags.len());
        if let Some(dim) = col("_array_structure_list.dimension") {
            let (aid, idx, prec) = (
                col("_array_structure_list.array_id"),
                col("_array_structure_list.index"),
                col("_array_structure_list.precedence"),
            );
            for r in rows {
                let Ok(dimension) = r[dim].parse::<u64>() else {
                    continue;
                };
                self.structure_list.push(StructureListRow {
                    array_id: aid.map(|c| r[c].to_string()).unwrap_or_default(),
                    index: idx.and_then(|c| r[c].parse().ok()),
                    dimension,
                    precedence: prec.and_then(|c| r[c].parse().ok()),
                });
            }
        } else {
            if let (Some(a), Some(b)) = (col("_array_data.array_id"), col("_array_data.binary_id"))
            {
                for r in rows {
                    if let Ok(id) = r[b].parse() {
                        self.array_binary_ids.push((r[a].to_string(), id));
                    }
                }
            }
            // Header contents given per array: the first row's is the file's header.
            if let Some(r) = values.chunks_exact(tags.len()).next() {
                if let Some(c) = col("_array_data.header_contents") {
                    self.contents = Some(r[c].to_string());
                }
                if let Some(c) = col("_array_data.header_convention") {
                    self.convention = Some(r[c].to_string());
                }
            }
        }
    }

    /// Parses miniCBF `# Key value` lines into the typed fields.
    fn parse_contents(&mut self, contents: &str) {
        for line in contents.lines() {
            let line = line.trim_end_matches(['\r', '\0', ' ']);
            if line.trim().is_empty() {
                continue;
            }
            if !self.take_minicbf_line(line) {
                self.unknown_lines.push(line.to_string());
            }
        }
    }

    /// Returns whether the line was recognised and stored in a typed field.
    fn take_minicbf_line(&mut self, line: &str) -> bool {
        let Some(body) = line.trim_start().strip_prefix('#') else {
            return false;
        };
        let body = body.trim();
        if looks_like_timestamp(body) {
            if self.timestamp.is_some() {
                return false;
            }
            self.timestamp = Some(body.to_string());
            return true;
        }
        let (key, rest) = match body.split_once([' ', '\t', ':', '=']) {
            Some((k, r)) => (k, r.trim_start_matches([' ', '\t', ':', '=']).trim()),
            None => (body, ""),
        };
        let first_num = || {
            rest.split_whitespace()
                .next()
                .and_then(|w| w.parse::<f64>().ok())
        };
        macro_rules! num {
            ($field:ident) => {{
                if self.$field.is_some() {
                    return false;
                }
                match first_num() {
                    Some(v) => {
                        self.$field = Some(v);
                        true
                    }
                    None => false,
                }
            }};
        }
        match key {
            "Detector" => {
                if self.detector.is_some() {
                    return false;
                }
                self.detector = Some(rest.to_string());
                true
            }
            "Pixel_size" => {
                // 172e-6 m x 172e-6 m
                let w: Vec<&str> = rest.split_whitespace().collect();
                match (
                    w.first().and_then(|v| v.parse().ok()),
                    w.get(3).and_then(|v| v.parse().ok()),
                ) {
                    (Some(x), Some(y)) if self.pixel_size.is_none() => {
                        self.pixel_size = Some([x, y]);
                        true
                    }
                    _ => false,
                }
            }
            "Exposure_time" => num!(exposure_time),
            "Exposure_period" => num!(exposure_period),
            "Tau" => num!(tau),
            "Count_cutoff" => {
                match rest
                    .split_whitespace()
                    .next()
                    .and_then(|w| w.parse::<i64>().ok())
                {
                    Some(v) if self.count_cutoff.is_none() => {
                        self.count_cutoff = Some(v);
                        true
                    }
                    _ => false,
                }
            }
            "Threshold_setting" => num!(threshold_setting),
            "Wavelength" => num!(wavelength),
            "Detector_distance" => num!(detector_distance),
            "Detector_Voffset" => num!(detector_voffset),
            "Beam_xy" => {
                let inner = rest.trim_start_matches('(');
                let inner = inner.split(')').next().unwrap_or("");
                let mut it = inner.split(',').map(|v| v.trim().parse::<f64>());
                match (it.next(), it.next()) {
                    (Some(Ok(x)), Some(Ok(y))) if self.beam_xy.is_none() => {
                        self.beam_xy = Some([x, y]);
                        true
                    }
                    _ => false,
                }
            }
            "Flux" => num!(flux),
            "Filter_transmission" => num!(filter_transmission),
            "Start_angle" => num!(start_angle),
            "Angle_increment" => num!(angle_increment),
            "Detector_2theta" => num!(detector_2theta),
            "Polarization" => num!(polarization),
            "Alpha" => num!(alpha),
            "Kappa" => num!(kappa),
            "Phi" => num!(phi),
            "Phi_increment" => num!(phi_increment),
            "Omega" => num!(omega),
            "Omega_increment" => num!(omega_increment),
            "Chi" => num!(chi),
            "Chi_increment" => num!(chi_increment),
            "Oscillation_axis" if self.oscillation_axis.is_none() && !rest.is_empty() => {
                self.oscillation_axis = Some(rest.to_string());
                true
            }
            "N_oscillations" => match rest.parse::<i64>() {
                Ok(v) if self.n_oscillations.is_none() => {
                    self.n_oscillations = Some(v);
                    true
                }
                _ => false,
            },
            _ => {
                // "Silicon sensor, thickness 0.000320 m"
                if let Some((material, t)) = body.split_once(" sensor, thickness ")
                    && self.sensor_thickness.is_none()
                    && let Some(v) = t
                        .split_whitespace()
                        .next()
                        .and_then(|v| v.parse::<f64>().ok())
                {
                    self.sensor_material = Some(material.to_string());
                    self.sensor_thickness = Some(v);
                    return true;
                }
                false
            }
        }
    }

    /// The header as miniCBF `# Key value` lines (PILATUS_1.2 order), typed fields first, then
    /// the unknown lines verbatim. Used by the writer.
    pub fn minicbf_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let f = |v: f64| format_float(v);
        if let Some(d) = &self.detector {
            out.push(format!("# Detector: {d}"));
        }
        if let Some(t) = &self.timestamp {
            out.push(format!("# {t}"));
        }
        if let Some([x, y]) = self.pixel_size {
            out.push(format!("# Pixel_size {} m x {} m", f(x), f(y)));
        }
        if let (Some(m), Some(t)) = (&self.sensor_material, self.sensor_thickness) {
            out.push(format!("# {m} sensor, thickness {} m", f(t)));
        }
        line(&mut out, "Exposure_time", self.exposure_time, "s");
        line(&mut out, "Exposure_period", self.exposure_period, "s");
        if let Some(t) = self.tau {
            out.push(format!("# Tau = {} s", f(t)));
        }
        if let Some(c) = self.count_cutoff {
            out.push(format!("# Count_cutoff {c} counts"));
        }
        if let Some(t) = self.threshold_setting {
            out.push(format!("# Threshold_setting: {} eV", f(t)));
        }
        line(&mut out, "Wavelength", self.wavelength, "A");
        line(&mut out, "Detector_distance", self.detector_distance, "m");
        line(&mut out, "Detector_Voffset", self.detector_voffset, "m");
        if let Some([x, y]) = self.beam_xy {
            out.push(format!("# Beam_xy ({}, {}) pixels", f(x), f(y)));
        }
        line(&mut out, "Flux", self.flux, "");
        line(
            &mut out,
            "Filter_transmission",
            self.filter_transmission,
            "",
        );
        line(&mut out, "Start_angle", self.start_angle, "deg.");
        line(&mut out, "Angle_increment", self.angle_increment, "deg.");
        line(&mut out, "Detector_2theta", self.detector_2theta, "deg.");
        line(&mut out, "Polarization", self.polarization, "");
        line(&mut out, "Alpha", self.alpha, "deg.");
        line(&mut out, "Kappa", self.kappa, "deg.");
        line(&mut out, "Phi", self.phi, "deg.");
        line(&mut out, "Phi_increment", self.phi_increment, "deg.");
        line(&mut out, "Omega", self.omega, "deg.");
        line(&mut out, "Omega_increment", self.omega_increment, "deg.");
        line(&mut out, "Chi", self.chi, "deg.");
        line(&mut out, "Chi_increment", self.chi_increment, "deg.");
        if let Some(a) = &self.oscillation_axis {
            out.push(format!("# Oscillation_axis {a}"));
        }
        if let Some(n) = self.n_oscillations {
            out.push(format!("# N_oscillations {n}"));
        }
        out.extend(self.unknown_lines.iter().cloned());
        out
    }
}

fn line(out: &mut Vec<String>, name: &str, v: Option<f64>, unit: &str) {
    if let Some(v) = v {
        if unit.is_empty() {
            out.push(format!("# {name} {}", format_float(v)));
        } else {
            out.push(format!("# {name} {} {unit}", format_float(v)));
        }
    }
}

/// Shortest text that parses back to the same f64.
fn format_float(v: f64) -> String {
    format!("{v:?}")
}

/// `data_<name>` (case-insensitive keyword).
fn is_data_block(w: &str) -> bool {
    w.len() > 5 && w.as_bytes()[..5].eq_ignore_ascii_case(b"data_")
}

fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // 2016-03-05T09:01:46.613 (or with a space instead of T)
    let iso = b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':';
    // 2011/Jul/21 11:59:03.203 (older camserver)
    let slashed = b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'/'
        && b.get(8) == Some(&b'/');
    iso || slashed
}

/// A token, borrowed from the text except for `;` text fields (their lines joined).
#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Word(&'a str),
    Quoted(&'a str),
    Text(String),
}

impl Token<'_> {
    fn value(&self) -> &str {
        match self {
            Token::Word(v) | Token::Quoted(v) => v,
            Token::Text(v) => v,
        }
    }
}

/// A small CIF 1.1 tokenizer: comments, `;` text fields, quoted strings and bare words. NUL
/// bytes (files padded to a block size) count as white space.
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let mut li = 0;
    while li < lines.len() {
        let line = lines[li];
        if let Some(first) = line.strip_prefix(';') {
            // Text field up to the next line starting with ';'.
            let mut body: Vec<&str> = Vec::new();
            if !first.trim().is_empty() {
                body.push(first);
            }
            li += 1;
            while li < lines.len() && !lines[li].starts_with(';') {
                body.push(lines[li]);
                li += 1;
            }
            tokens.push(Token::Text(body.join("\n")));
            if li < lines.len() {
                // The closing ';' line may carry more tokens after the ';'.
                let rest = &lines[li][1..];
                tokenize_line(rest, &mut tokens);
            }
            li += 1;
            continue;
        }
        tokenize_line(line, &mut tokens);
        li += 1;
    }
    tokens
}

fn tokenize_line<'a>(line: &'a str, tokens: &mut Vec<Token<'a>>) {
    let b = line.as_bytes();
    let is_ws = |c: u8| c == b' ' || c == b'\t' || c == 0 || c == b'\r';
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if is_ws(c) {
            i += 1;
            continue;
        }
        if c == b'#' {
            return;
        }
        if c == b'\'' || c == b'"' {
            // Ends at the same quote followed by white space or end of line.
            let mut j = i + 1;
            while j < b.len() && !(b[j] == c && (j + 1 == b.len() || is_ws(b[j + 1]))) {
                j += 1;
            }
            let end = j.min(b.len());
            tokens.push(Token::Quoted(&line[i + 1..end]));
            i = end + 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && !is_ws(b[j]) {
            j += 1;
        }
        tokens.push(Token::Word(&line[i..j]));
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PILATUS: &str = "###CBF: VERSION 1.5, CBFlib v0.7.8 - PILATUS detectors\r\n\r\ndata_l-cyst_01_00011\r\n\r\n\
_array_data.header_convention \"PILATUS_1.2\"\r\n_array_data.header_contents\r\n;\r\n\
# Detector: PILATUS 2M, S/N 24-0107 Diamond\r\n# 2016-03-05T09:01:46.613\r\n\
# Pixel_size 172e-6 m x 172e-6 m\r\n# Silicon sensor, thickness 0.000320 m\r\n\
# Exposure_time 0.0964000 s\r\n# Tau = 124.0e-09 s\r\n# Count_cutoff 388705 counts\r\n\
# Threshold_setting: 9000 eV\r\n# Gain_setting: low gain (vrf = -0.300)\r\n# Wavelength 0.68890 A\r\n\
# Beam_xy (730.00, 865.00) pixels\r\n# Flux 0.000000\r\n# Start_angle -144.0000 deg.\r\n\
# Oscillation_axis X.CW +SLOW\r\n# N_oscillations 1\r\n;\r\n\r\n_array_data.data\r\n;\r\n\r\n;\r\n";

    #[test]
    fn parses_minicbf_lines_and_keeps_unknown_ones() {
        let h = Header::parse_cif(PILATUS);
        assert_eq!(h.convention.as_deref(), Some("PILATUS_1.2"));
        assert_eq!(h.data_block.as_deref(), Some("l-cyst_01_00011"));
        assert_eq!(
            h.detector.as_deref(),
            Some("PILATUS 2M, S/N 24-0107 Diamond")
        );
        assert_eq!(h.timestamp.as_deref(), Some("2016-03-05T09:01:46.613"));
        assert_eq!(h.pixel_size, Some([172e-6, 172e-6]));
        assert_eq!(h.sensor_material.as_deref(), Some("Silicon"));
        assert_eq!(h.sensor_thickness, Some(0.00032));
        assert_eq!(h.exposure_time, Some(0.0964));
        assert_eq!(h.tau, Some(124.0e-9));
        assert_eq!(h.count_cutoff, Some(388705));
        assert_eq!(h.threshold_setting, Some(9000.0));
        assert_eq!(h.wavelength, Some(0.6889));
        assert_eq!(h.beam_xy, Some([730.0, 865.0]));
        assert_eq!(h.flux, Some(0.0));
        assert_eq!(h.start_angle, Some(-144.0));
        assert_eq!(h.oscillation_axis.as_deref(), Some("X.CW +SLOW"));
        assert_eq!(h.n_oscillations, Some(1));
        assert_eq!(
            h.unknown_lines,
            vec!["# Gain_setting: low gain (vrf = -0.300)".to_string()]
        );
    }

    #[test]
    fn minicbf_lines_parse_back_to_the_same_header() {
        let h = Header::parse_cif(PILATUS);
        let text = format!(
            "_array_data.header_convention \"PILATUS_1.2\"\n_array_data.header_contents\n;\n{}\n;\n",
            h.minicbf_lines().join("\n")
        );
        let mut back = Header::parse_cif(&text);
        back.data_block = h.data_block.clone();
        back.magic = h.magic.clone();
        back.contents = h.contents.clone();
        assert_eq!(back, h);
    }

    #[test]
    fn structure_list_gives_dims_by_precedence() {
        let text = "loop_\n_array_structure_list.array_id\n_array_structure_list.index\n\
_array_structure_list.dimension\n_array_structure_list.precedence\n_array_structure_list.direction\n\
 image_1 2 236 2 increasing\n image_1 1 263 1 increasing\n";
        let h = Header::parse_cif(text);
        assert_eq!(h.structure_dims(Some(1)), vec![263, 236]);
    }
}

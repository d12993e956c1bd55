//! Units of the radial and azimuthal axes, with pyFAI's names and scale factors.
//!
//! pyFAI computes every position in an internal SI-like representation (2θ and χ in radians,
//! q in nm⁻¹, r in metres) and multiplies by the unit's `scale` for display. [`Unit::internal`]
//! and [`Unit::scale`] expose the same split so that an engine can bin in the internal
//! representation exactly as pyFAI does and scale only the bin centres.

#![forbid(unsafe_code)]

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A radial (or azimuthal) unit, named as pyFAI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unit {
    /// `2th_deg`: scattering angle 2θ in degrees.
    TwoThetaDeg,
    /// `2th_rad`: scattering angle 2θ in radians.
    TwoThetaRad,
    /// `q_nm^-1`: scattering vector q = 4π sin(θ)/λ in nm⁻¹.
    QNm,
    /// `q_A^-1`: scattering vector in Å⁻¹.
    QA,
    /// `r_mm`: distance from the beam axis in the (tilted) detector plane, in millimetres.
    RMm,
    /// `r_m`: the same in metres.
    RM,
    /// `chi_deg`: azimuthal angle χ in degrees.
    ChiDeg,
    /// `chi_rad`: azimuthal angle χ in radians.
    ChiRad,
}

/// What a unit measures (pyFAI's `unit.space`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Space {
    /// Scattering angle 2θ.
    TwoTheta,
    /// Scattering vector modulus q.
    Q,
    /// Radius from the beam axis.
    R,
    /// Azimuthal angle χ.
    Chi,
}

impl Unit {
    /// Every unit this crate knows.
    pub const ALL: [Unit; 8] = [
        Unit::TwoThetaDeg,
        Unit::TwoThetaRad,
        Unit::QNm,
        Unit::QA,
        Unit::RMm,
        Unit::RM,
        Unit::ChiDeg,
        Unit::ChiRad,
    ];

    /// pyFAI's name of the unit (`"2th_deg"`, `"q_nm^-1"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Unit::TwoThetaDeg => "2th_deg",
            Unit::TwoThetaRad => "2th_rad",
            Unit::QNm => "q_nm^-1",
            Unit::QA => "q_A^-1",
            Unit::RMm => "r_mm",
            Unit::RM => "r_m",
            Unit::ChiDeg => "chi_deg",
            Unit::ChiRad => "chi_rad",
        }
    }

    /// The symbol of the unit alone, as stored in a NeXus `units` attribute.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::TwoThetaDeg | Unit::ChiDeg => "deg",
            Unit::TwoThetaRad | Unit::ChiRad => "rad",
            Unit::QNm => "1/nm",
            Unit::QA => "1/angstrom",
            Unit::RMm => "mm",
            Unit::RM => "m",
        }
    }

    /// What the unit measures.
    pub fn space(self) -> Space {
        match self {
            Unit::TwoThetaDeg | Unit::TwoThetaRad => Space::TwoTheta,
            Unit::QNm | Unit::QA => Space::Q,
            Unit::RMm | Unit::RM => Space::R,
            Unit::ChiDeg | Unit::ChiRad => Space::Chi,
        }
    }

    /// The unit pyFAI computes internally for this unit's space (`scale == 1`).
    pub fn internal(self) -> Unit {
        match self.space() {
            Space::TwoTheta => Unit::TwoThetaRad,
            Space::Q => Unit::QNm,
            Space::R => Unit::RM,
            Space::Chi => Unit::ChiRad,
        }
    }

    /// pyFAI's scale factor: value in this unit = internal value × `scale()`.
    pub fn scale(self) -> f64 {
        match self {
            Unit::TwoThetaDeg | Unit::ChiDeg => 180.0 / PI,
            Unit::TwoThetaRad | Unit::ChiRad | Unit::QNm | Unit::RM => 1.0,
            Unit::QA => 0.1,
            Unit::RMm => 1000.0,
        }
    }

    /// Whether the unit needs the wavelength.
    pub fn needs_wavelength(self) -> bool {
        self.space() == Space::Q
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Unit {
    type Err = Error;

    /// Parses pyFAI's unit names (`2th_deg`, `2th_rad`, `q_nm^-1`, `q_A^-1`, `r_mm`, `r_m`,
    /// `chi_deg`, `chi_rad`), also written without the `^` (`q_nm-1`).
    fn from_str(s: &str) -> Result<Self, Error> {
        let name = s.trim();
        let unit = match name {
            "2th_deg" => Unit::TwoThetaDeg,
            "2th_rad" => Unit::TwoThetaRad,
            "q_nm^-1" | "q_nm-1" => Unit::QNm,
            "q_A^-1" | "q_A-1" => Unit::QA,
            "r_mm" => Unit::RMm,
            "r_m" => Unit::RM,
            "chi_deg" => Unit::ChiDeg,
            "chi_rad" => Unit::ChiRad,
            _ => {
                return Err(Error::UnknownUnit {
                    name: name.to_owned(),
                });
            }
        };
        Ok(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_roundtrip() {
        for u in Unit::ALL {
            assert_eq!(u.name().parse::<Unit>().unwrap(), u);
            assert_eq!(u.internal().scale(), 1.0);
            assert_eq!(u.internal().space(), u.space());
        }
    }

    #[test]
    fn display_roundtrips() {
        for u in Unit::ALL {
            assert_eq!(u.to_string().parse::<Unit>().unwrap(), u);
        }
        assert_eq!("q_nm-1".parse::<Unit>().unwrap(), Unit::QNm);
        assert_eq!(" q_A^-1 ".parse::<Unit>().unwrap(), Unit::QA);
    }

    proptest::proptest! {
        /// Any string parses to a unit whose name parses back to it, or is an error naming
        /// it; nothing panics.
        #[test]
        fn parsing_any_string_is_total(s in proptest::prelude::any::<String>()) {
            match s.parse::<Unit>() {
                Ok(u) => proptest::prop_assert_eq!(u.name().parse::<Unit>().unwrap(), u),
                Err(e) => {
                    let named = matches!(&e, Error::UnknownUnit { name } if *name == s.trim());
                    proptest::prop_assert!(named, "{}", e);
                }
            }
        }
    }

    #[test]
    fn rejects_unknown_unit() {
        let err = "2theta".parse::<Unit>().unwrap_err();
        assert!(err.to_string().contains("2theta"), "{err}");
    }
}

//! The one-stop entry point: an [`Integrator`] is a geometry, a radial unit and an [`Engine`]
//! built for them, made from a PONI file and an [`IntegrationConfig`] in one call.

#![forbid(unsafe_code)]

use std::path::Path;

use crate::Error;
use crate::engine::{Engine, IntegrationConfig, Pattern, PixelValue, Split};
use crate::geometry::{ChiDiscontinuity, Geometry, PixelMapOptions, Polarization};
use crate::poni::Poni;
use crate::units::Unit;

/// An azimuthal integrator for one detector geometry: pyFAI's `AzimuthalIntegrator` with its
/// integration method and grid fixed, ready to integrate any number of frames.
///
/// Build it from a PONI file ([`Integrator::from_poni_file`]), PONI text
/// ([`Integrator::from_poni_str`]) or a parsed [`Poni`] ([`Integrator::from_poni`]) with
/// pyFAI's defaults, or through [`Integrator::builder`] to choose the unit, a mask,
/// polarization and the other per-pixel corrections. Dark current and flat field go in the
/// [`IntegrationConfig`] (`dark`, `flat`).
///
/// The defaults are those of pyFAI's `integrate1d_ng` / `integrate2d_ng` except for the
/// radial unit, 2θ in degrees (`2th_deg`; pyFAI's default is `q_nm^-1`, which needs the
/// wavelength): solid-angle correction on, no polarization correction, χ cut at π, and the
/// pixel corners rounded to float32 as pyFAI's splitting engines see them.
///
/// ```
/// use azint::{IntegrationConfig, Integrator, Split, Unit};
///
/// let poni = "poni_version: 2.1\n\
///     Detector: Detector\n\
///     Detector_config: {\"pixel1\": 1e-4, \"pixel2\": 1e-4, \"max_shape\": [64, 64]}\n\
///     Distance: 0.1\nPoni1: 0.0032\nPoni2: 0.0032\nRot1: 0\nRot2: 0\nRot3: 0\n\
///     Wavelength: 1e-10\n";
/// let config = IntegrationConfig { bins: 50, split: Split::No, ..Default::default() };
/// let integrator = Integrator::builder(azint::Geometry::from_poni(&azint::Poni::parse(poni)?)?)
///     .unit(Unit::QNm)
///     .mask((0..64 * 64).map(|k| k % 64 == 0).collect()) // first column masked
///     .polarization_factor(0.99)
///     .build(&config)?;
/// let pattern = integrator.integrate(&vec![1.0f32; 64 * 64])?;
/// assert_eq!(pattern.radial.len(), 50);
/// assert_eq!(integrator.unit(), Unit::QNm);
/// # Ok::<(), azint::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Integrator {
    geometry: Geometry,
    unit: Unit,
    engine: Engine,
}

impl Integrator {
    /// The integrator of a parsed PONI file with the defaults (see [`Integrator`]).
    pub fn from_poni(poni: &Poni, config: &IntegrationConfig) -> Result<Integrator, Error> {
        Integrator::builder(Geometry::from_poni(poni)?).build(config)
    }

    /// The integrator of the text of a PONI file with the defaults (see [`Integrator`]).
    pub fn from_poni_str(text: &str, config: &IntegrationConfig) -> Result<Integrator, Error> {
        Integrator::from_poni(&Poni::parse(text)?, config)
    }

    /// The integrator of a PONI file on disk with the defaults (see [`Integrator`]).
    pub fn from_poni_file(
        path: impl AsRef<Path>,
        config: &IntegrationConfig,
    ) -> Result<Integrator, Error> {
        Integrator::from_poni(&Poni::from_file(path)?, config)
    }

    /// A builder for an integrator of `geometry` (see [`Geometry::from_poni`]), starting
    /// from the defaults.
    pub fn builder(geometry: Geometry) -> IntegratorBuilder {
        IntegratorBuilder {
            geometry,
            unit: Unit::TwoThetaDeg,
            options: PixelMapOptions {
                corners_f32: true,
                ..PixelMapOptions::new()
            },
        }
    }

    /// Integrates a whole frame of `i32` or `f32` pixels (row-major, the detector's shape).
    /// Errors when the frame has the wrong number of pixels.
    pub fn integrate<T: PixelValue>(&self, frame: &[T]) -> Result<Pattern, Error> {
        self.engine.integrate(frame, 1.0)
    }

    /// [`Integrator::integrate`] with a normalization factor (monitor, pyFAI's
    /// `normalization_factor`) multiplying every pixel's normalization. Errors also when
    /// the factor is zero or not finite.
    pub fn integrate_normalized<T: PixelValue>(
        &self,
        frame: &[T],
        normalization_factor: f64,
    ) -> Result<Pattern, Error> {
        self.engine.integrate(frame, normalization_factor)
    }

    /// The engine: block-wise accumulation ([`Engine::add_block`]), several frames per pass
    /// ([`Engine::add_blocks`]), sigma clipping, median filter, the integration matrix.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, e.g. to hand it to the GPU integrator (`gpu` feature).
    pub fn into_engine(self) -> Engine {
        self.engine
    }

    /// The geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The radial unit of the patterns.
    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// The detector's shape (rows, columns): a frame has `rows * columns` pixels.
    pub fn shape(&self) -> (usize, usize) {
        self.engine.shape()
    }

    /// Radial bin centres, in [`Integrator::unit`].
    pub fn radial(&self) -> &[f64] {
        self.engine.radial()
    }

    /// Azimuthal bin centres in degrees (2D only).
    pub fn azimuthal(&self) -> Option<&[f64]> {
        self.engine.azimuthal()
    }
}

/// Chooses the unit and the per-pixel corrections of an [`Integrator`]
/// ([`Integrator::builder`]); [`IntegratorBuilder::build`] computes the pixel map and the
/// engine.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct IntegratorBuilder {
    geometry: Geometry,
    unit: Unit,
    options: PixelMapOptions,
}

impl IntegratorBuilder {
    /// The radial unit (default `2th_deg`).
    pub fn unit(mut self, unit: Unit) -> Self {
        self.unit = unit;
        self
    }

    /// A user mask, row-major with the detector's shape, `true` = masked (pyFAI: non-zero =
    /// masked), added to the detector's own gaps. A mask of the wrong size is an error at
    /// [`IntegratorBuilder::build`].
    pub fn mask(mut self, mask: Vec<bool>) -> Self {
        self.options.user_mask = Some(mask);
        self
    }

    /// Polarization correction with pyFAI's `polarization_factor` (in [−1, 1]; 0.99 is
    /// typical of a synchrotron) and the polarization plane along the detector's X axis.
    pub fn polarization_factor(self, factor: f64) -> Self {
        self.polarization(Polarization {
            factor,
            axis_offset: 0.0,
        })
    }

    /// Polarization correction with a factor and an axis offset.
    pub fn polarization(mut self, polarization: Polarization) -> Self {
        self.options.polarization = Some(polarization);
        self
    }

    /// Solid-angle correction on or off (default on).
    pub fn solid_angle(mut self, on: bool) -> Self {
        self.options.solid_angle = on;
        self
    }

    /// Where the χ axis is cut (default at π).
    pub fn chi_discontinuity(mut self, at: ChiDiscontinuity) -> Self {
        self.options.chi_discontinuity = at;
        self
    }

    /// Replaces every per-pixel option at once. `corners` is ignored: the corners are
    /// computed exactly when the configuration splits pixels.
    pub fn pixel_map_options(mut self, options: PixelMapOptions) -> Self {
        self.options = options;
        self
    }

    /// Computes the pixel map and builds the engine. Errors when the unit needs a wavelength
    /// the geometry lacks, the mask, dark or flat does not have the detector's shape, or the
    /// configuration is unusable (see [`Engine::new`]).
    pub fn build(self, config: &IntegrationConfig) -> Result<Integrator, Error> {
        let IntegratorBuilder {
            geometry,
            unit,
            mut options,
        } = self;
        options.corners = config.split != Split::No;
        let map = geometry.pixel_map(unit, &options)?;
        let engine = Engine::new(&map, config)?;
        Ok(Integrator {
            geometry,
            unit,
            engine,
        })
    }
}

//! Ellipse phantoms with exact (analytic) parallel-beam projections, in the geometry of
//! [`crate::tomo::fbp`]: a point at column offset `x` and row offset `y` (rows point down) from
//! the rotation axis projects to detector coordinate `t = x·cos θ − y·sin θ`.
//!
//! Used by the demo (phase fractions along each beam path) and by the reconstruction tests.

/// An ellipse of constant density, added to whatever lies beneath.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ellipse {
    /// Centre, column offset from the rotation axis (translation steps).
    pub x0: f64,
    /// Centre, row offset (rows point down).
    pub y0: f64,
    /// Semi-axis along the ellipse's own first direction.
    pub a: f64,
    /// Other semi-axis.
    pub b: f64,
    /// Rotation of the first semi-axis, degrees, counter-clockwise on screen.
    pub phi_deg: f64,
    /// Density added inside.
    pub value: f64,
}

impl Ellipse {
    /// A disc.
    pub fn disc(x0: f64, y0: f64, r: f64, value: f64) -> Self {
        Ellipse {
            x0,
            y0,
            a: r,
            b: r,
            phi_deg: 0.0,
            value,
        }
    }

    /// Whether (x, y) is inside.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let (s, c) = self.phi_deg.to_radians().sin_cos();
        let dx = x - self.x0;
        let dy = -(y - self.y0); // up-pointing
        let u = dx * c + dy * s;
        let v = -dx * s + dy * c;
        (u / self.a).powi(2) + (v / self.b).powi(2) <= 1.0
    }

    /// Line integral along `x·cos θ − y·sin θ = t`.
    pub fn project(&self, theta_deg: f64, t: f64) -> f64 {
        let th = theta_deg.to_radians();
        let (s, c) = th.sin_cos();
        // In up-pointing coordinates the line is x cos θ + y' sin θ = t.
        let t0 = self.x0 * c + (-self.y0) * s;
        let d = (th - self.phi_deg.to_radians()).sin_cos();
        let a2 = (self.a * d.1).powi(2) + (self.b * d.0).powi(2);
        let dt = t - t0;
        if dt * dt >= a2 || a2 <= 0.0 {
            return 0.0;
        }
        2.0 * self.value * self.a * self.b * (a2 - dt * dt).sqrt() / a2
    }
}

/// A sum of ellipses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Phantom {
    /// The ellipses, added.
    pub ellipses: Vec<Ellipse>,
}

impl Phantom {
    /// The modified Shepp-Logan head phantom (Toft) with outer semi-axes `0.69·r × 0.92·r`.
    pub fn shepp_logan(r: f64) -> Self {
        const E: [[f64; 6]; 10] = [
            [1.0, 0.69, 0.92, 0.0, 0.0, 0.0],
            [-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0],
            [-0.2, 0.11, 0.31, 0.22, 0.0, -18.0],
            [-0.2, 0.16, 0.41, -0.22, 0.0, 18.0],
            [0.1, 0.21, 0.25, 0.0, 0.35, 0.0],
            [0.1, 0.046, 0.046, 0.0, 0.1, 0.0],
            [0.1, 0.046, 0.046, 0.0, -0.1, 0.0],
            [0.1, 0.046, 0.023, -0.08, -0.605, 0.0],
            [0.1, 0.023, 0.023, 0.0, -0.606, 0.0],
            [0.1, 0.023, 0.046, 0.06, -0.605, 0.0],
        ];
        Phantom {
            ellipses: E
                .iter()
                .map(|e| Ellipse {
                    x0: e[3] * r,
                    y0: -e[4] * r, // the table's y points up
                    a: e[1] * r,
                    b: e[2] * r,
                    phi_deg: e[5],
                    value: e[0],
                })
                .collect(),
        }
    }

    /// Density at (x, y).
    pub fn value_at(&self, x: f64, y: f64) -> f64 {
        self.ellipses
            .iter()
            .filter(|e| e.contains(x, y))
            .map(|e| e.value)
            .sum()
    }

    /// Line integral at angle `theta_deg` and detector coordinate `t`.
    pub fn project(&self, theta_deg: f64, t: f64) -> f64 {
        self.ellipses.iter().map(|e| e.project(theta_deg, t)).sum()
    }

    /// `rotations × translations` sinogram with the axis at translation `center`.
    pub fn sinogram(&self, angles_deg: &[f64], translations: usize, center: f64) -> Vec<f32> {
        let mut out = Vec::with_capacity(angles_deg.len() * translations);
        for &a in angles_deg {
            for k in 0..translations {
                out.push(self.project(a, k as f64 - center) as f32);
            }
        }
        out
    }

    /// `n × n` image on the reconstruction grid of [`crate::tomo::fbp`] (axis at pixel
    /// `(n/2, n/2)`), each pixel the mean of `ss × ss` samples.
    pub fn rasterize(&self, n: usize, ss: usize) -> Vec<f32> {
        let ss = ss.max(1);
        let h = (n / 2) as f64;
        let mut img = vec![0f32; n * n];
        for r in 0..n {
            for c in 0..n {
                let mut s = 0.0;
                for i in 0..ss {
                    for j in 0..ss {
                        let y = r as f64 - h + (i as f64 + 0.5) / ss as f64 - 0.5;
                        let x = c as f64 - h + (j as f64 + 0.5) / ss as f64 - 0.5;
                        s += self.value_at(x, y);
                    }
                }
                img[r * n + c] = (s / (ss * ss) as f64) as f32;
            }
        }
        img
    }
}

/// Pearson correlation of two maps over the pixels where `mask` is true (all when `None`).
pub fn correlation(a: &[f32], b: &[f32], mask: Option<&[bool]>) -> f64 {
    let idx: Vec<usize> = (0..a.len().min(b.len()))
        .filter(|&i| mask.is_none_or(|m| m.get(i) == Some(&true)))
        .collect();
    let n = idx.len().max(1) as f64;
    let ma = idx.iter().map(|&i| a[i] as f64).sum::<f64>() / n;
    let mb = idx.iter().map(|&i| b[i] as f64).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for &i in &idx {
        let (da, db) = (a[i] as f64 - ma, b[i] as f64 - mb);
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// The reconstruction circle of an `n × n` grid (scikit-image's, radius `n/2`).
pub fn circle_mask(n: usize) -> Vec<bool> {
    let r = (n / 2) as i64;
    (0..n * n)
        .map(|i| {
            let (y, x) = ((i / n) as i64 - r, (i % n) as i64 - r);
            x * x + y * y <= r * r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disc_projection_is_a_chord() {
        let d = Ellipse::disc(3.0, -2.0, 5.0, 2.0);
        // θ = 0: t = x → centre at 3; chord through the centre = 2r × value.
        assert!((d.project(0.0, 3.0) - 20.0).abs() < 1e-12);
        // θ = 90°: t = −y → centre at 2.
        assert!((d.project(90.0, 2.0) - 20.0).abs() < 1e-12);
        assert_eq!(d.project(90.0, 7.5), 0.0);
    }

    #[test]
    fn projection_matches_numeric_integration() {
        let p = Phantom::shepp_logan(20.0);
        for &(th, t) in &[(0.0, 1.3), (33.0, -4.2), (100.0, 7.7), (160.0, 0.0)] {
            // integrate along the line: points (x, y) with x cos − y sin = t
            let (s, c) = f64::to_radians(th).sin_cos();
            let step = 0.01;
            let mut sum = 0.0;
            let mut u = -30.0;
            while u < 30.0 {
                // direction along the line: (sin, cos) satisfies x cos − y sin = 0
                let (x, y) = (t * c + u * s, -t * s + u * c);
                sum += p.value_at(x, y) * step;
                u += step;
            }
            assert!(
                (sum - p.project(th, t)).abs() < 0.05,
                "{th} {t}: {sum} vs {}",
                p.project(th, t)
            );
        }
    }
}

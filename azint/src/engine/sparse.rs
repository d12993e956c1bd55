//! Sparse integration matrices: per-pixel lists (CSC, what float frames are scattered
//! through) and per-bin lists (CSR, pyFAI's layout, what the GPU and the per-bin filters gather
//! from). Both are internal; [`IntegrationMatrix`] is the read-only public view.

#![forbid(unsafe_code)]

use std::fmt;

use crate::Error;

/// Pixel → bins matrix: the entries of pixel `p` are `ptr[p]..ptr[p + 1]` in `bins`/`coefs`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Csc {
    /// Offsets into `bins`/`coefs`, one per pixel plus one.
    pub ptr: Vec<u32>,
    /// Flat output bin of each entry (radial-major for 2D: `radial * azimuthal_bins + azimuthal`).
    pub bins: Vec<u32>,
    /// Coefficient (fraction of the pixel) of each entry, float32 as pyFAI stores it.
    pub coefs: Vec<f32>,
}

/// Bins → pixels matrix in CSR form, rows ordered by pixel index as pyFAI builds them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Csr {
    /// Row offsets, one per bin plus one.
    pub indptr: Vec<u32>,
    /// Pixel index of each entry.
    pub indices: Vec<u32>,
    /// Coefficient of each entry.
    pub data: Vec<f32>,
}

impl Csc {
    /// Concatenates per-chunk pieces built in parallel (each with its own local `ptr`).
    pub(crate) fn concat(parts: Vec<Csc>) -> Result<Csc, Error> {
        let n_pixels: usize = parts.iter().map(|p| p.ptr.len().saturating_sub(1)).sum();
        let nnz: usize = parts.iter().map(|p| p.bins.len()).sum();
        if nnz > u32::MAX as usize {
            return Err(Error::MatrixTooLarge { entries: nnz });
        }
        let mut out = Csc {
            ptr: Vec::with_capacity(n_pixels + 1),
            bins: Vec::with_capacity(nnz),
            coefs: Vec::with_capacity(nnz),
        };
        out.ptr.push(0);
        for part in parts {
            let base = out.bins.len() as u32;
            out.ptr.extend(part.ptr.iter().skip(1).map(|&p| p + base));
            out.bins.extend_from_slice(&part.bins);
            out.coefs.extend_from_slice(&part.coefs);
        }
        Ok(out)
    }

    /// Number of pixels.
    pub(crate) fn n_pixels(&self) -> usize {
        self.ptr.len().saturating_sub(1)
    }

    /// The bins of pixel `p`'s entries (empty past the last pixel).
    pub(crate) fn bins_of(&self, p: usize) -> &[u32] {
        match (self.ptr.get(p), self.ptr.get(p + 1)) {
            (Some(&a), Some(&b)) => self.bins.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The transpose, rows = bins, entries of each row in increasing pixel order. Entries
    /// naming a bin `>= n_bins` are dropped.
    pub(crate) fn to_csr(&self, n_bins: usize) -> Csr {
        let mut counts = vec![0u32; n_bins + 1];
        for &b in &self.bins {
            if let Some(c) = counts.get_mut(b as usize + 1) {
                *c += 1;
            }
        }
        for i in 0..n_bins {
            counts[i + 1] += counts[i];
        }
        let indptr = counts.clone();
        let mut fill = counts;
        let nnz = indptr[n_bins] as usize;
        let mut indices = vec![0u32; nnz];
        let mut data = vec![0f32; nnz];
        for p in 0..self.n_pixels() {
            for k in self.ptr[p] as usize..self.ptr[p + 1] as usize {
                let b = self.bins[k] as usize;
                if b >= n_bins {
                    continue;
                }
                let dst = fill[b] as usize;
                indices[dst] = p as u32;
                data[dst] = self.coefs[k];
                fill[b] += 1;
            }
        }
        Csr {
            indptr,
            indices,
            data,
        }
    }
}

impl Csr {
    /// Number of rows (bins).
    pub(crate) fn n_rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Entries `(pixel, coefficient)` of one row (none past the last row).
    pub(crate) fn row(&self, bin: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let (a, b) = match (self.indptr.get(bin), self.indptr.get(bin + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
        };
        let indices = self.indices.get(a..b).unwrap_or(&[]);
        let data = self.data.get(a..b).unwrap_or(&[]);
        indices.iter().zip(data).map(|(&i, &c)| (i as usize, c))
    }
}

/// A read-only view of an engine's integration matrix ([`Engine::matrix`]), in pyFAI's CSR
/// layout: one row per flat output bin (radial-major in 2D: `radial * azimuthal_bins +
/// azimuthal`), each row listing `(pixel, coefficient)` in increasing pixel order, with
/// pyFAI's float32 coefficients (the fraction of the pixel that goes to the bin; 1 without
/// splitting). Masked and statically invalid pixels have no entry.
///
/// [`Engine::matrix`]: super::Engine::matrix
#[derive(Clone, Copy)]
pub struct IntegrationMatrix<'a> {
    csr: &'a Csr,
    n_pixels: usize,
}

impl<'a> IntegrationMatrix<'a> {
    pub(crate) fn new(csr: &'a Csr, n_pixels: usize) -> IntegrationMatrix<'a> {
        IntegrationMatrix { csr, n_pixels }
    }

    /// Number of rows: the engine's flat bins.
    pub fn n_bins(&self) -> usize {
        self.csr.n_rows()
    }

    /// Number of columns: the detector's pixels.
    pub fn n_pixels(&self) -> usize {
        self.n_pixels
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.csr.indices.len()
    }

    /// The entries `(pixel, coefficient)` of flat bin `bin`, in increasing pixel order; none
    /// when `bin >= n_bins()`.
    pub fn row(&self, bin: usize) -> impl Iterator<Item = (usize, f32)> + 'a {
        self.csr.row(bin)
    }
}

impl fmt::Debug for IntegrationMatrix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntegrationMatrix")
            .field("n_bins", &self.n_bins())
            .field("n_pixels", &self.n_pixels)
            .field("nnz", &self.nnz())
            .finish()
    }
}

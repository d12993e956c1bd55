//! Sparse integration matrices: per-pixel lists (CSC, what float frames are scattered
//! through) and per-bin lists (CSR, pyFAI's layout, what the GPU and the per-bin filters gather
//! from).

use crate::Error;

/// Pixel → bins matrix: the entries of pixel `p` are `ptr[p]..ptr[p + 1]` in `bins`/`coefs`.
#[derive(Clone, Debug, Default)]
pub struct Csc {
    /// Offsets into `bins`/`coefs`, one per pixel plus one.
    pub ptr: Vec<u32>,
    /// Flat output bin of each entry (radial-major for 2D: `radial * azimuthal_bins + azimuthal`).
    pub bins: Vec<u32>,
    /// Coefficient (fraction of the pixel) of each entry, float32 as pyFAI stores it.
    pub coefs: Vec<f32>,
}

/// Bins → pixels matrix in CSR form, rows ordered by pixel index as pyFAI builds them.
#[derive(Clone, Debug, Default)]
pub struct Csr {
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
            out.ptr.extend(part.ptr[1..].iter().map(|&p| p + base));
            out.bins.extend_from_slice(&part.bins);
            out.coefs.extend_from_slice(&part.coefs);
        }
        Ok(out)
    }

    /// Number of pixels.
    pub fn n_pixels(&self) -> usize {
        self.ptr.len().saturating_sub(1)
    }

    /// The transpose, rows = bins, entries of each row in increasing pixel order.
    pub fn to_csr(&self, n_bins: usize) -> Csr {
        let mut counts = vec![0u32; n_bins + 1];
        for &b in &self.bins {
            counts[b as usize + 1] += 1;
        }
        for i in 0..n_bins {
            counts[i + 1] += counts[i];
        }
        let indptr = counts.clone();
        let mut fill = counts;
        let nnz = self.bins.len();
        let mut indices = vec![0u32; nnz];
        let mut data = vec![0f32; nnz];
        for p in 0..self.n_pixels() {
            for k in self.ptr[p] as usize..self.ptr[p + 1] as usize {
                let b = self.bins[k] as usize;
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
    pub fn n_rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Entries `(pixel, coefficient)` of one row.
    pub fn row(&self, bin: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let (a, b) = (self.indptr[bin] as usize, self.indptr[bin + 1] as usize);
        self.indices[a..b]
            .iter()
            .zip(&self.data[a..b])
            .map(|(&i, &c)| (i as usize, c))
    }
}

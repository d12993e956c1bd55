//! Element types a chunk can be decoded into or encoded from.

mod sealed {
    pub trait Sealed {}
}

/// Pixel types of whole-chunk decoding and encoding: `u8`, `i8`, `u16`, `i16`, `u32`, `i32`,
/// `u64`, `i64`. The chunk holds their little-endian bytes (the HDF5 files of DECTRIS and
/// LIMA); values are the bit patterns as stored, with no conversion. Sealed.
pub trait Element: bytemuck::Pod + Default + Send + Sync + 'static + sealed::Sealed {
    /// Bytes per element.
    const SIZE: usize;
    #[doc(hidden)]
    fn to_le_vec(data: &[Self]) -> Vec<u8>;
    #[doc(hidden)]
    fn from_le_in_place(data: &mut [Self]);
}

macro_rules! element {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            fn to_le_vec(data: &[Self]) -> Vec<u8> {
                data.iter().flat_map(|v| v.to_le_bytes()).collect()
            }
            fn from_le_in_place(data: &mut [Self]) {
                if cfg!(target_endian = "big") {
                    for v in data {
                        *v = <$t>::from_le(*v);
                    }
                }
            }
        }
    )*};
}

element!(u8, i8, u16, i16, u32, i32, u64, i64);

//! Integer element types of a byte-offset stream, with the wrap-around arithmetic of cbflib.

mod sealed {
    pub trait Sealed {}
}

/// An integer pixel type that a byte-offset stream can encode.
///
/// Differences between neighbours are taken modulo 2^(8 × [`Element::SIZE`]) and read as a
/// signed number of that width, exactly as cbflib does; so 8-, 16- and 32-bit data never need
/// the 64-bit escape, and a decoder accumulating at the same width gets the data back.
///
/// Implemented for `i8 u8 i16 u16 i32 u32 i64 u64`; sealed.
pub trait Element:
    Copy + Default + PartialEq + core::fmt::Debug + Send + Sync + 'static + sealed::Sealed
{
    /// Size of the element in bytes.
    const SIZE: usize;
    /// Type name, for messages.
    const NAME: &'static str;
    /// `self - prev` modulo the element width, read as a signed number of that width.
    fn wrapping_delta(self, prev: Self) -> i64;
    /// `self + delta` modulo the element width (the delta is truncated to the width first).
    fn wrapping_add_delta(self, delta: i64) -> Self;
    /// The value as a 64-bit signed integer (unsigned 64-bit values wrap).
    fn to_i64(self) -> i64;
    /// The values as 32-bit signed integers of the same bits, for 32-bit types.
    #[doc(hidden)]
    fn as_i32s(values: &[Self]) -> Option<&[i32]> {
        let _ = values;
        None
    }
}

macro_rules! element {
    ($t:ty, $signed:ty) => {
        element!($t, $signed, |_v| None);
    };
    ($t:ty, $signed:ty, |$v:ident| $as_i32s:expr) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            const NAME: &'static str = stringify!($t);
            #[inline(always)]
            fn wrapping_delta(self, prev: Self) -> i64 {
                i64::from(self.wrapping_sub(prev) as $signed)
            }
            #[inline(always)]
            fn wrapping_add_delta(self, delta: i64) -> Self {
                self.wrapping_add(delta as $t)
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn as_i32s($v: &[Self]) -> Option<&[i32]> {
                $as_i32s
            }
        }
    };
}

element!(i8, i8);
element!(u8, i8);
element!(i16, i16);
element!(u16, i16);
element!(i32, i32, |v| Some(v));
element!(u32, i32, |v| Some(bytemuck::cast_slice(v)));
element!(i64, i64);
element!(u64, i64);

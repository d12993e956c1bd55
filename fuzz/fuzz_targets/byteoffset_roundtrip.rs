//! Round-trip fuzz target: for pixels of every element type, `encode` equals the reference
//! encoder, and decoding its output gives the pixels back.
//!
//! The first input byte picks the element type; the rest are the pixels' little-endian bytes.
#![no_main]

use byteoffset::{Element, reference};
use libfuzzer_sys::fuzz_target;

fn check<T: Element, const N: usize>(bytes: &[u8], from_le: fn([u8; N]) -> T) -> Vec<T> {
    let values: Vec<T> = bytes
        .chunks_exact(N)
        .map(|c| from_le(c.try_into().expect("chunk of N bytes")))
        .collect();
    let encoded = byteoffset::encode(&values);
    assert_eq!(encoded, reference::encode(&values));
    assert_eq!(byteoffset::encoded_len(&values), encoded.len());
    assert!(encoded.len() <= byteoffset::max_encoded_len(values.len(), T::SIZE));
    let mut exact = vec![0u8; encoded.len()];
    assert_eq!(
        byteoffset::encode_into(&values, &mut exact),
        Ok(encoded.len())
    );
    assert_eq!(exact, encoded);
    assert_eq!(
        reference::decode_wrapping::<T>(&encoded, values.len()).as_deref(),
        Ok(&values[..])
    );
    values
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, bytes)) = data.split_first() else {
        return;
    };
    match ctl % 8 {
        0 => {
            let v = check(bytes, i32::from_le_bytes);
            assert_eq!(
                byteoffset::decode::<i32>(&byteoffset::encode(&v), v.len()),
                Ok(v)
            );
        }
        1 => {
            let v = check(bytes, u32::from_le_bytes);
            assert_eq!(
                byteoffset::decode::<u32>(&byteoffset::encode(&v), v.len()),
                Ok(v)
            );
        }
        2 => {
            let v = check(bytes, i64::from_le_bytes);
            assert_eq!(
                byteoffset::decode::<i64>(&byteoffset::encode(&v), v.len()),
                Ok(v)
            );
        }
        3 => {
            check(bytes, u64::from_le_bytes);
        }
        4 => {
            check(bytes, i16::from_le_bytes);
        }
        5 => {
            check(bytes, u16::from_le_bytes);
        }
        6 => {
            check(bytes, i8::from_le_bytes);
        }
        _ => {
            check(bytes, u8::from_le_bytes);
        }
    }
});

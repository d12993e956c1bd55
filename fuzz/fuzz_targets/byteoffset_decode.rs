//! Decode fuzz target: on any bytes and any element count, every public decoder returns the
//! reference decoder's result (values or the same error) and never panics.
//!
//! The first input byte picks the element count relative to the number of whole tokens
//! (−2 ..= +2) and the visit block size; the rest is the stream.
#![no_main]

use byteoffset::{Error, reference};
use libfuzzer_sys::fuzz_target;

fn token_count(input: &[u8]) -> usize {
    let mut pos = 0;
    let mut n = 0;
    while pos < input.len() {
        let len = if input[pos] != 0x80 {
            1
        } else if input.get(pos + 1..pos + 3) != Some(&[0x00, 0x80]) {
            3
        } else if input.get(pos + 3..pos + 7) != Some(&[0x00, 0x00, 0x00, 0x80]) {
            7
        } else {
            15
        };
        pos += len;
        n += 1;
    }
    n
}

fn narrow<T: TryFrom<i32>>(v: &[i32], name: &'static str) -> Result<Vec<T>, Error> {
    v.iter()
        .enumerate()
        .map(|(i, &x)| {
            T::try_from(x).map_err(|_| Error::Overflow {
                index: i,
                value: i64::from(x),
                target: name,
            })
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, input)) = data.split_first() else {
        return;
    };
    let n = (token_count(input) + usize::from(ctl % 5)).saturating_sub(2);
    let want = reference::decode_wrapping::<i32>(input, n);
    assert_eq!(byteoffset::decode::<i32>(input, n), want);
    assert_eq!(
        byteoffset::decode::<u32>(input, n),
        reference::decode_wrapping::<u32>(input, n)
    );
    assert_eq!(
        byteoffset::decode::<i64>(input, n),
        reference::decode_wrapping::<i64>(input, n)
    );
    assert_eq!(
        byteoffset::decode::<i16>(input, n),
        want.clone().and_then(|v| narrow(&v, "i16"))
    );
    assert_eq!(
        byteoffset::decode::<u16>(input, n),
        want.clone().and_then(|v| narrow(&v, "u16"))
    );
    assert_eq!(
        byteoffset::decode::<f32>(input, n),
        want.clone()
            .map(|v| v.iter().map(|&x| x as f32).collect::<Vec<_>>())
    );
    let mut block = vec![0i32; 1 + usize::from(ctl / 5)];
    let mut visited = Vec::new();
    let got = byteoffset::decode_visit(input, n, &mut block, |first, px| {
        assert_eq!(first, visited.len());
        visited.extend_from_slice(px);
    });
    assert_eq!(got.map(|()| visited), want);
});

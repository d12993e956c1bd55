//! SIMD fuzz target: every vector path this CPU offers gives the scalar path's result (values
//! or error) on any stream. Fails when no vector path is available, so a run on a machine
//! without one cannot pass silently.
//!
//! The input is repeated to at least 300 bytes so that whole vector blocks always run; the
//! first byte picks the element count relative to the number of whole tokens (−2 ..= +2).
#![no_main]

use byteoffset::Path;
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

fuzz_target!(|data: &[u8]| {
    let vector: Vec<Path> = Path::ALL
        .into_iter()
        .filter(|p| p.is_vector() && p.is_available())
        .collect();
    assert!(
        !vector.is_empty(),
        "no vector path is available on this CPU: nothing to compare"
    );
    let Some((&ctl, body)) = data.split_first() else {
        return;
    };
    if body.is_empty() {
        return;
    }
    let mut input = Vec::with_capacity(300 + body.len());
    while input.len() < 300 {
        input.extend_from_slice(body);
    }
    let n = (token_count(&input) + usize::from(ctl % 5)).saturating_sub(2);
    let mut scalar = vec![0i32; n];
    let want = byteoffset::decode_into_with(Path::Scalar, &input, &mut scalar).map(|()| scalar);
    let mut block = vec![0i32; 32 + usize::from(ctl)];
    for path in vector {
        let mut out = vec![-7i32; n];
        let got = byteoffset::decode_into_with(path, &input, &mut out).map(|()| out);
        assert_eq!(got, want, "{path} differs from scalar");
        let mut visited = Vec::new();
        let got = byteoffset::decode_visit_with(path, &input, n, &mut block, |_, px| {
            visited.extend_from_slice(px)
        });
        assert_eq!(
            got.map(|()| visited),
            want,
            "{path} visit differs from scalar"
        );
    }
});

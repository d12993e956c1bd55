//! The CPU ports of the GPU stages (`xrdct_shaders::cpu`) against the reference decoder:
//! the same batch layout and stages the GPU runs, checked on the CPU (no adapter needed).
#![cfg(feature = "gpu")]

use byteoffset::reference::{decode_wrapping, encode};
use proptest::prelude::*;
use xrdct_shaders::bo::FrameStatus;
use xrdct_shaders::cpu::{bo_decode_batch, bo_layout};

/// Runs the ports on `streams` (stream, expected pixels) and checks each frame's pixels
/// (where the reference succeeds) and token count against the reference.
fn check(streams: &[(Vec<u8>, usize)]) {
    let layout: Vec<_> = streams
        .iter()
        .map(|(s, n)| (s.as_slice(), *n as u32))
        .collect();
    let (frames, src, n_out) = bo_layout(&layout);
    for out_f32 in [false, true] {
        let (dst, status) = bo_decode_batch(&frames, &src, out_f32, n_out);
        for ((f, (s, n)), st) in frames.iter().zip(streams).zip(status.chunks(8)) {
            let st: FrameStatus = bytemuck::pod_read_unaligned(bytemuck::cast_slice(st));
            let got = &dst[f.out_offset as usize..f.out_offset as usize + n];
            match decode_wrapping::<i32>(s, *n) {
                Ok(want) => {
                    assert_eq!(st.tokens as usize, *n);
                    assert_eq!(st.final_state, 0);
                    let want: Vec<u32> = want
                        .iter()
                        .map(|&v| {
                            if out_f32 {
                                (v as f32).to_bits()
                            } else {
                                v as u32
                            }
                        })
                        .collect();
                    assert_eq!(got, want.as_slice());
                }
                Err(byteoffset::Error::TooFewElements { decoded, .. }) => {
                    assert_eq!(st.tokens as usize, decoded);
                    assert_eq!(st.final_state, 0);
                }
                Err(byteoffset::Error::TruncatedToken { offset, needed, .. }) => {
                    assert_eq!(st.final_state, xrdct_shaders::bo::ERR);
                    assert_eq!(
                        (st.truncated_at as usize, st.truncated_needs as usize),
                        (offset, needed)
                    );
                }
                Err(byteoffset::Error::TrailingBytes { offset, .. }) => {
                    assert!(st.tokens as usize > *n || st.final_state != 0);
                    if *n > 0 {
                        assert_eq!(st.end_of_expected as usize, offset);
                    }
                }
                Err(e) => panic!("unexpected reference error {e:?}"),
            }
        }
    }
}

fn pixels() -> impl Strategy<Value = Vec<i32>> {
    prop::collection::vec(
        prop_oneof![6 => -127i32..=127, 2 => -40_000i32..=40_000, 1 => any::<i32>()],
        0..10_000,
    )
}

fn soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![3 => any::<u8>(), 4 => Just(0x80u8), 2 => Just(0u8)],
        0..10_000,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn cpu_ports_match_reference_on_random_frames(a in pixels(), b in pixels()) {
        check(&[(encode(&a), a.len()), (encode(&b), b.len())]);
    }

    #[test]
    fn cpu_ports_match_reference_on_adversarial_bytes(a in soup(), b in soup(), n in 0usize..12_000) {
        // Arbitrary expected counts: most of these frames fail, each as the reference says.
        check(&[(a.clone(), n), (b, n / 2), (a, n.min(3))]);
    }
}

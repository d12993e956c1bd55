//! naga helpers shared by the stage modules' tests.

/// Parses and validates a WGSL module, panicking with naga's message.
pub(crate) fn validate(name: &str, src: &str) -> naga::Module {
    let m = naga::front::wgsl::parse_str(src)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
    let mut v = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    );
    v.validate(&m)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
    m
}

/// Size and member offsets of the WGSL struct `name` (naga's layout).
pub(crate) fn wgsl_layout(m: &naga::Module, name: &str) -> (u32, Vec<(String, u32)>) {
    let ty = m
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no struct {name}"))
        .1;
    match &ty.inner {
        naga::TypeInner::Struct { members, span } => (
            *span,
            members
                .iter()
                .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
                .collect(),
        ),
        other => panic!("{name} is not a struct: {other:?}"),
    }
}

//! The HDF5 helpers every NeXus file of xrdct is written with: UTF-8 strings, `NX_class`
//! groups and JSON values as datasets.

use hdf5::types::VarLenUnicode;
use serde_json::Value;

/// A string HDF5 can store (interior NUL bytes, the only thing `VarLenUnicode` refuses,
/// become U+FFFD).
pub(crate) fn vlu(s: &str) -> VarLenUnicode {
    s.replace('\0', "\u{FFFD}").parse().unwrap_or_default()
}

pub(crate) fn str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    if loc.attr_names()?.iter().any(|n| n == name) {
        loc.delete_attr(name)?;
    }
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&vlu(value))
}

pub(crate) fn str_dataset(
    group: &hdf5::Group,
    name: &str,
    value: &str,
) -> hdf5::Result<hdf5::Dataset> {
    let ds = group.new_dataset::<VarLenUnicode>().create(name)?;
    ds.write_scalar(&vlu(value))?;
    Ok(ds)
}

pub(crate) fn nx_group(parent: &hdf5::Group, name: &str, class: &str) -> hdf5::Result<hdf5::Group> {
    let g = parent.create_group(name)?;
    str_attr(&g, "NX_class", class)?;
    Ok(g)
}

pub(crate) fn json_dataset(group: &hdf5::Group, name: &str, value: &Value) -> hdf5::Result<()> {
    match value {
        Value::Bool(b) => {
            group.new_dataset::<bool>().create(name)?.write_scalar(b)?;
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            let v = n.as_i64().unwrap_or(i64::MAX);
            group.new_dataset::<i64>().create(name)?.write_scalar(&v)?;
        }
        Value::Number(n) => {
            group
                .new_dataset::<f64>()
                .create(name)?
                .write_scalar(&n.as_f64().unwrap_or(f64::NAN))?;
        }
        Value::String(s) => {
            str_dataset(group, name, s)?;
        }
        Value::Null => {
            str_dataset(group, name, "")?;
        }
        other => {
            str_dataset(group, name, &other.to_string())?;
        }
    }
    Ok(())
}

/// The attributes of a radial axis: NeXus `units`, a `long_name` label and the pyFAI unit
/// name (`pyfai_unit`, what xrdct reads back), from the one unit table of
/// [`crate::output::unit_attributes`].
pub(crate) fn radial_attrs(axis: &hdf5::Location, pyfai_unit: &str) -> hdf5::Result<()> {
    let (units, label) = crate::output::unit_attributes(pyfai_unit);
    str_attr(
        axis,
        "units",
        if units.is_empty() { pyfai_unit } else { units },
    )?;
    str_attr(axis, "long_name", label)?;
    str_attr(axis, "pyfai_unit", pyfai_unit)
}

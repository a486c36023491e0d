//! Arrays from Python: numpy arrays read in place (no copy when they are already contiguous
//! float64 / int64), any other sequence element by element.

use std::borrow::Cow;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// One dimension of numbers, borrowed from a numpy array when possible.
pub struct Numbers<'py, T: Copy> {
    /// The contiguous, aligned array read (kept alive while `values` borrows it).
    _array: Option<Bound<'py, PyAny>>,
    values: Cow<'py, [T]>,
}

impl<T: Copy> Numbers<'_, T> {
    /// The numbers.
    pub fn as_slice(&self) -> &[T] {
        &self.values
    }
}

/// Element types readable from numpy arrays.
pub trait Element: Copy + for<'a, 'py> FromPyObject<'a, 'py> + 'static {
    /// numpy's name of the type.
    const DTYPE: &'static str;
}
impl Element for f64 {
    const DTYPE: &'static str = "float64";
}
impl Element for i64 {
    const DTYPE: &'static str = "int64";
}

/// Reads `obj` (a numpy array, or any sequence of numbers) as one dimension of `T`. numpy
/// arrays are converted by numpy itself when they are of another type or not contiguous.
pub fn numbers<'py, T: Element>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Numbers<'py, T>> {
    if obj.hasattr("__array_interface__")? {
        let py = obj.py();
        let numpy = py.import("numpy")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("dtype", T::DTYPE)?;
        let array = numpy.call_method("ascontiguousarray", (obj,), Some(&kwargs))?;
        let interface = array.getattr("__array_interface__")?;
        let shape: Vec<usize> = interface.get_item("shape")?.extract()?;
        if shape.len() > 1 {
            return Err(PyValueError::new_err(format!(
                "{name}: expected one dimension, got shape {shape:?}"
            )));
        }
        let len = shape.first().copied().unwrap_or(1);
        let data = interface.get_item("data")?;
        let data = data.cast::<PyTuple>()?;
        let address: usize = data.get_item(0)?.extract()?;
        let aligned: bool = array.getattr("flags")?.getattr("aligned")?.extract()?;
        if len == 0 {
            return Ok(Numbers { _array: None, values: Cow::Owned(Vec::new()) });
        }
        if !aligned || address == 0 || !address.is_multiple_of(std::mem::align_of::<T>()) {
            // Rare (a view into a packed record array): let Python copy it element by element.
            let values: Vec<T> = array.call_method0("tolist")?.extract()?;
            return Ok(Numbers { _array: None, values: Cow::Owned(values) });
        }
        let values = borrow_array::<T>(address, len);
        return Ok(Numbers { _array: Some(array), values: Cow::Borrowed(values) });
    }
    let values: Vec<T> = obj.extract().map_err(|_| {
        PyTypeError::new_err(format!("{name}: expected a numpy array or a sequence of numbers"))
    })?;
    Ok(Numbers { _array: None, values: Cow::Owned(values) })
}

/// The `len` elements at `address`: the data of a contiguous, aligned numpy array of `T`.
#[allow(unsafe_code)]
fn borrow_array<'py, T: Copy>(address: usize, len: usize) -> &'py [T] {
    // SAFETY: `address` is the data pointer numpy reports for a C-contiguous, aligned array of
    // `len` elements of `T` (numpy converted it to exactly that dtype). The array object is
    // kept alive next to the slice (`Numbers::_array`), and the slice is only read while the
    // GIL is held, so no Python code can resize or free the array meanwhile.
    unsafe { std::slice::from_raw_parts(address as *const T, len) }
}

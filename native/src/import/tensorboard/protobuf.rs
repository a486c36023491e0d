//! Just enough of the protocol-buffer wire format to read TensorBoard's `Event` messages.

/// One protocol-buffer field value (groups, long deprecated, end the message).
#[derive(Debug, Clone, Copy)]
pub(super) enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: bytes, a string or a message.
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

/// The fields of a protocol-buffer message, in order; stops at anything malformed.
pub(super) struct Fields<'a>(pub(super) &'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = (u64, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let key = varint(&mut self.0)?;
        let value = match key & 7 {
            0 => Value::Varint(varint(&mut self.0)?),
            1 => Value::Fixed64(u64::from_le_bytes(take(&mut self.0, 8)?.try_into().ok()?)),
            2 => {
                let length = usize::try_from(varint(&mut self.0)?).ok()?;
                Value::Bytes(take(&mut self.0, length)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(take(&mut self.0, 4)?.try_into().ok()?)),
            _ => {
                self.0 = &[];
                return None;
            }
        };
        Some((key >> 3, value))
    }
}

fn take<'a>(data: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, rest) = (data.get(..n)?, data.get(n..)?);
    *data = rest;
    Some(head)
}

fn varint(data: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = data.split_first()?;
        *data = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_buffer_fields_are_read_and_bad_ones_end_the_message() {
        // field 1 varint 150, field 2 bytes "hi", field 3 fixed32, then a truncated varint.
        let message = [0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x1d, 1, 0, 0, 0, 0x20, 0x80];
        let fields: Vec<_> = Fields(&message).collect();
        assert_eq!(fields.len(), 3);
        assert!(matches!(fields[0], (1, Value::Varint(150))));
        assert!(matches!(fields[1], (2, Value::Bytes(b"hi"))));
        assert!(matches!(fields[2], (3, Value::Fixed32(1))));
    }
}

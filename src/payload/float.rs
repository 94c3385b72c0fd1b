//! CBOR floats of every width (RFC 8949 §3.3), read into the width a field
//! asks for when the value survives the conversion exactly.

/// The value of a float item of additional information `info` (25: half,
/// 26: single, 27: double) whose bytes follow in `rest`. The caller knows
/// the item is well formed; missing bytes read as zeros.
pub(crate) fn widen(info: u8, rest: &[u8]) -> f64 {
    let mut bits = [0u8; 8];
    let len = match info {
        25 => 2,
        26 => 4,
        _ => 8,
    };
    for (b, r) in bits.iter_mut().zip(rest.iter().take(len)) {
        *b = *r;
    }
    let [a, b, c, d, e, f, g, h] = bits;
    match info {
        25 => {
            let bits = u16::from_be_bytes([a, b]);
            nan_bits(u64::from(bits), 16, 10).unwrap_or_else(|| half::f16::from_bits(bits).to_f64())
        }
        26 => {
            let bits = u32::from_be_bytes([a, b, c, d]);
            nan_bits(u64::from(bits), 32, 23).unwrap_or_else(|| f64::from(f32::from_bits(bits)))
        }
        _ => f64::from_be_bytes([a, b, c, d, e, f, g, h]),
    }
}

/// A NaN of a narrower width as a double, bit for bit (FORMAT.md §5.2):
/// the same sign, the exponent all ones, the mantissa's bits as the high
/// bits of the double's, never quieted. The hardware conversion may set
/// the quiet bit of a signalling NaN or not, by platform, and two keys'
/// equality must not depend on the machine. `None` if not a NaN.
/// `bits` is an IEEE 754 float of `width` bits with `mantissa_bits` of
/// mantissa (half: 16, 10; single: 32, 23).
fn nan_bits(bits: u64, width: u32, mantissa_bits: u32) -> Option<f64> {
    let mantissa = bits & ((1 << mantissa_bits) - 1);
    let exponent_mask = (1 << (width - 1 - mantissa_bits)) - 1;
    let sign = bits >> (width - 1);
    ((bits >> mantissa_bits) & exponent_mask == exponent_mask && mantissa != 0)
        .then(|| f64::from_bits(sign << 63 | 0x7ff << 52 | mantissa << (52 - mantissa_bits)))
}

/// `value` as an `f32` if that loses nothing (NaN stays NaN).
#[allow(clippy::cast_possible_truncation)] // checked: the round trip is exact
pub(crate) fn narrow(value: f64) -> Option<f32> {
    let narrowed = value as f32;
    (f64::from(narrowed) == value || value.is_nan()).then_some(narrowed)
}

/// An integer item's value (`-1 - value` when `negative`) as a float, if
/// the float holds it exactly.
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)] // checked: exact
pub(crate) fn of_integer(negative: bool, value: u64) -> Option<f64> {
    let n = if negative {
        -1 - i128::from(value)
    } else {
        i128::from(value)
    };
    let float = n as f64;
    (float as i128 == n).then_some(float)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_reads_exactly() {
        // 1.5 in each width, as ciborium writes the shortest exact one.
        assert_eq!(widen(25, &[0x3e, 0x00]), 1.5);
        assert_eq!(widen(26, &[0x3f, 0xc0, 0x00, 0x00]), 1.5);
        assert_eq!(widen(27, &[0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), 1.5);
        assert_eq!(widen(25, &[0x7c, 0x00]), f64::INFINITY);
        assert!(widen(25, &[0x7e, 0x00]).is_nan());
        // NaNs widen bit for bit, signalling ones included, on every
        // platform: a half and a single with the same payload, and the
        // double they name.
        let signalling = 0x7ff0_0400_0000_0000;
        assert_eq!(widen(25, &[0x7c, 0x01]).to_bits(), signalling);
        assert_eq!(widen(26, &[0x7f, 0x80, 0x20, 0x00]).to_bits(), signalling);
        assert_eq!(widen(27, &signalling.to_be_bytes()).to_bits(), signalling);
        assert_eq!(widen(25, &[0xfe, 0x00]).to_bits(), 0xfff8_0000_0000_0000);
        assert_eq!(widen(25, &[0x00, 0x01]), 5.960_464_477_539_063e-8); // smallest subnormal
        assert_eq!(narrow(1.5), Some(1.5));
        assert_eq!(narrow(0.1), None);
        assert_eq!(narrow(f64::INFINITY), Some(f32::INFINITY));
        assert_eq!(of_integer(false, 1 << 53), Some(9_007_199_254_740_992.0));
        assert_eq!(of_integer(false, (1 << 53) + 1), None);
        assert_eq!(of_integer(true, 0), Some(-1.0));
        assert_eq!(
            of_integer(true, (1 << 53) - 1),
            Some(-9_007_199_254_740_992.0)
        );
        assert_eq!(of_integer(true, 1 << 53), None);
        assert_eq!(of_integer(false, u64::MAX), None);
    }
}

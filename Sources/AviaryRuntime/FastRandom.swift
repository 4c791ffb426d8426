import Synchronization

/// Random numbers for request ids and traffic draws without a system call each (the system generator
/// made two `getrandom` calls per request): SplitMix64 over a process-wide counter, keyed once from the
/// system generator. The mix is a bijection of the counter, so no two calls in a process return the same
/// value; the outputs are uniformly spread, and unpredictable only as far as the key is secret — ids and
/// draws, not secrets.
public enum FastRandom {
    private static let counter = Atomic<UInt64>(0)
    private static let key: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()

    public static func next() -> UInt64 {
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        var value = (count &* 0x9E37_79B9_7F4A_7C15) ^ key
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// Uniform in [0, 1).
    @Sendable public static func unitInterval() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A random UUID (version 4 layout) in AWS's lower-case form, formatted by hand (Foundation's
    /// `uuidString` goes through `sprintf`).
    public static func uuid() -> String {
        let words = (next(), next())
        let hex = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            for (word, start) in [(words.0, 0), (words.1, 16)] {
                for nibbleIndex in 0..<16 {
                    let position = start + nibbleIndex
                    if position == 8 || position == 12 || position == 16 || position == 20 {
                        buffer[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    var nibble = Int((word >> UInt64(60 - nibbleIndex * 4)) & 0xF)
                    if position == 12 { nibble = 4 }  // version 4
                    if position == 16 { nibble = 8 | (nibble & 0x3) }  // RFC 4122 variant
                    buffer[index] = hex[nibble]
                    index += 1
                }
            }
            return index
        }
    }
}

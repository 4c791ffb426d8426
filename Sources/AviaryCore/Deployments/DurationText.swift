/// Durations as people write them on a command line: `250ms`, `30s`, `5m`, `1h`, or combined (`1m30s`).
public enum DurationText {
    static let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]

    /// Milliseconds, or nil when `text` is not one or more `<number><unit>` parts. Decimals are allowed
    /// (`1.5m`); a bare number is refused, so that nobody guesses the unit wrong.
    public static func milliseconds(_ text: some StringProtocol) -> Int64? {
        var rest = Substring(text)
        var total: Int64 = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCIIDigit || $0 == "." }
            rest = rest.dropFirst(number.count)
            guard !number.isEmpty, let value = Double(number),
                let unit = units.first(where: { rest.hasPrefix($0.suffix) })
            else { return nil }
            rest = rest.dropFirst(unit.suffix.count)
            let part = value * Double(unit.milliseconds)
            guard part.isFinite, part < 1e15 else { return nil }
            total += Int64(part.rounded())
            guard total < 1_000_000_000_000_000 else { return nil }  // no overflow however many parts
        }
        return total
    }

    /// The shortest exact text for `milliseconds`: `5m`, `1h30m`, `250ms`, `0s`.
    public static func format(milliseconds: Int64) -> String {
        guard milliseconds > 0 else { return "0s" }
        var rest = milliseconds
        var text = ""
        for (suffix, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000), ("ms", 1)] where rest >= size {
            text += "\(rest / size)\(suffix)"
            rest %= size
        }
        return text
    }
}

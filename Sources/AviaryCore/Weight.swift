/// The share of an alias's traffic sent to its additional version, in [0, 1].
public struct Weight: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let value: Double

    /// Nil outside [0, 1] or for NaN.
    public init?(_ value: Double) {
        guard value >= 0, value <= 1 else { return nil }
        self.value = value
    }

    public var description: String { "\(value)" }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(Double.self)
        guard let weight = Weight(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "weight \(raw)"))
        }
        self = weight
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// A point in time with millisecond precision, the precision of Lambda's `LastModified`.
///
/// Whole milliseconds survive a round trip through the store exactly, so a restart never changes what
/// clients see.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let millisecondsSince1970: Int64

    public init(millisecondsSince1970: Int64) {
        self.millisecondsSince1970 = millisecondsSince1970
    }

    /// Lambda's text form: `2020-04-10T19:06:32.563+0000`.
    public var description: String { LambdaTimestamp.format(millisecondsSince1970: millisecondsSince1970) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.millisecondsSince1970 < rhs.millisecondsSince1970 }

    public init(from decoder: any Decoder) throws {
        self.millisecondsSince1970 = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(millisecondsSince1970)
    }
}

/// An alias name: 1–128 characters of `[a-zA-Z0-9-_]`, not all digits (that would read as a version).
public struct AliasName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(validating raw: String, field: String = "name") throws(LambdaError) {
        guard raw.count <= 128 else { throw .tooLong(value: raw, field: field, max: 128) }
        guard !raw.isEmpty, raw.allSatisfy(\.isNameCharacter), !raw.allSatisfy(\.isASCIIDigit) else {
            throw .patternMismatch(value: raw, field: field, pattern: Patterns.alias)
        }
        self.rawValue = raw
    }

    public init(trusted raw: String) { self.rawValue = raw }

    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

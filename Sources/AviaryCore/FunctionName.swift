/// A function's bare name: 1–64 characters of `[a-zA-Z0-9-_]`.
public struct FunctionName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: String

    public static let maxLength = 64

    /// Validates a bare name, reporting AWS's errors against `field`.
    public init(validating raw: String, field: String = "functionName") throws(LambdaError) {
        guard !raw.isEmpty, raw.allSatisfy(\.isNameCharacter) else {
            throw .patternMismatch(value: raw, field: field, pattern: Patterns.functionName)
        }
        guard raw.count <= Self.maxLength else {
            // AWS reports the length of a bare name as InvalidParameterValue, not ValidationException.
            throw .invalidParameterValue(
                "1 validation error detected: Value '\(raw)' at '\(field)' failed to satisfy constraint: "
                    + "Member must have length less than or equal to \(Self.maxLength)")
        }
        self.rawValue = raw
    }

    /// Wraps a name already known to be valid (e.g. read back from the store).
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

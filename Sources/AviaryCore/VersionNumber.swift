/// The number of a published version: 1, 2, 3… strictly increasing per function, never reused.
public struct VersionNumber: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let value: Int

    public init(_ value: Int) {
        precondition(value > 0, "version numbers start at 1")
        self.value = value
    }

    /// Parses the decimal form used on the wire (`"7"`); nil for anything else, including values that overflow.
    public init?(_ text: some StringProtocol) {
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let value = Int(text), value > 0 else { return nil }
        self.value = value
    }

    /// Stands for digit strings that cannot be a version (0, or beyond Int): no function has it.
    static let unreachable = VersionNumber(Int.max)

    public var description: String { String(value) }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        self.value = try decoder.singleValueContainer().decode(Int.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// What an alias or a lookup points at: the mutable `$LATEST` or a published number.
public enum VersionSelector: Sendable, Hashable, Codable, CustomStringConvertible {
    case latest
    case published(VersionNumber)

    public static let latestName = "$LATEST"

    /// Parses the `Version` shape `(\$LATEST|[0-9]+)`.
    public init(validating raw: String, field: String) throws(LambdaError) {
        if raw == Self.latestName {
            self = .latest
        } else if !raw.isEmpty, raw.count <= 1024, raw.allSatisfy(\.isASCIIDigit) {
            // Digits match the pattern even when they name no possible version ("0", overflow): those are
            // then simply not found.
            self = .published(VersionNumber(raw) ?? VersionNumber.unreachable)
        } else if raw.count > 1024 {
            throw .tooLong(value: raw, field: field, max: 1024)
        } else {
            throw .patternMismatch(value: raw, field: field, pattern: Patterns.version)
        }
    }

    /// Sorts `$LATEST` first, then versions numerically, as listings present them.
    public var listingKey: String {
        switch self {
        case .latest: "0"
        case .published(let number): "1" + LambdaTimestamp.pad(number.value, 20)
        }
    }

    public var description: String {
        switch self {
        case .latest: Self.latestName
        case .published(let number): number.description
        }
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        if raw == Self.latestName {
            self = .latest
        } else if let number = VersionNumber(raw) {
            self = .published(number)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad version \(raw)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The part after `name:` (or `?Qualifier=`): `$LATEST`, a version number, or an alias.
public enum Qualifier: Sendable, Hashable, CustomStringConvertible {
    case version(VersionSelector)
    case alias(AliasName)

    public static let latest = Qualifier.version(.latest)

    /// Parses a qualifier of the `Qualifier` shape: `$LATEST`, digits, or an alias name.
    public init(validating raw: String, field: String = "qualifier") throws(LambdaError) {
        if raw == VersionSelector.latestName {
            self = .version(.latest)
        } else if !raw.isEmpty, raw.allSatisfy(\.isASCIIDigit) {
            // An all-digit qualifier is a version even when it does not fit an Int: it then names nothing.
            self = .version(.published(VersionNumber(raw) ?? VersionNumber.unreachable))
        } else {
            guard raw.count <= 128 else { throw .tooLong(value: raw, field: field, max: 128) }
            guard !raw.isEmpty, raw.allSatisfy(\.isNameCharacter) else {
                throw .patternMismatch(value: raw, field: field, pattern: Patterns.qualifier)
            }
            self = .alias(AliasName(trusted: raw))
        }
    }

    public var description: String {
        switch self {
        case .version(let selector): selector.description
        case .alias(let name): name.rawValue
        }
    }
}

/// Coded as its text (`$LATEST`, `3`, `live`).
extension Qualifier: Codable {
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        self = try Qualifier(validating: raw)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

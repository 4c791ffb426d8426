/// A runtime identifier Aviary can run on the machine's own interpreters.
///
/// Every `python3.*`, `nodejs*` and `provided*` identifier AWS has used is accepted, including retired
/// ones that tutorials still show (`nodejs6.10`, `python3.6`): they run on the local `python3` / `node`.
public struct Runtime: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String

    public enum Family: Sendable, Hashable { case python, node, provided }

    /// Identifiers in the order AWS lists them in its enum error message.
    public static let supported: [String] = [
        "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x",
        "nodejs14.x", "nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x",
        "python3.6", "python3.7", "python3.8", "python3.9", "python3.10", "python3.11", "python3.12",
        "python3.13", "python3.14",
        "provided", "provided.al2", "provided.al2023",
    ]

    public init(validating raw: String) throws(LambdaError) {
        guard Self.supported.contains(raw) else {
            throw .invalidParameterValue(
                "Value \(raw) at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
                    + "[\(Self.supported.joined(separator: ", "))] or be a valid ARN")
        }
        self.rawValue = raw
    }

    public init(trusted raw: String) { self.rawValue = raw }

    public var family: Family {
        if rawValue.hasPrefix("python") { return .python }
        if rawValue.hasPrefix("nodejs") { return .node }
        return .provided
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The instruction set a function is built for; one per function, as on AWS.
public enum Architecture: String, Sendable, Hashable, Codable, CaseIterable {
    case x86_64
    case arm64
}

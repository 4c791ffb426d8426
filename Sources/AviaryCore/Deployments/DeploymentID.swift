/// A deployment's identifier, in CodeDeploy's form: `d-` and nine upper-case letters or digits.
public struct DeploymentID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// Nil unless `rawValue` has the `d-XXXXXXXXX` form.
    public init?(_ rawValue: String) {
        let body = rawValue.dropFirst(2)
        guard rawValue.hasPrefix("d-"), body.count == 9, body.allSatisfy({ Self.alphabet.contains($0) }) else {
            return nil
        }
        self.rawValue = rawValue
    }

    /// A fresh identifier drawn from `random` (passed in: Core has no randomness of its own).
    public static func random(using random: inout some RandomNumberGenerator) -> DeploymentID {
        let body = (0..<9).map { _ in alphabet.randomElement(using: &random)! }
        return DeploymentID(trusted: "d-" + String(body))
    }

    init(trusted rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = DeploymentID(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "deployment id \(raw)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

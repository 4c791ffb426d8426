/// A named deployment policy (`dev`, `qa`, `prod`…): every deployment to it goes through the same gate,
/// held at the same canary weight, approved by a person or pre-approved, and announced to the same
/// webhooks. Flags of a deployment override what they name.
public struct EnvironmentPolicy: Sendable, Hashable, Codable {
    public let name: String
    /// The strategy when the deployment names none.
    public var strategy: Strategy?
    public var canaryWeight: Weight
    /// Whether a person must approve (`prod`) or the gate is pre-approved (`dev`, `qa`).
    public var requireApproval: Bool
    public var approvalTimeoutMilliseconds: Int64
    public var onTimeout: ApprovalGate.TimeoutAction
    public var afterApproval: ApprovalGate.AfterApproval
    public var approvers: [String]
    public var notify: [NotificationTarget]

    public init(
        name: String, strategy: Strategy? = nil, canaryWeight: Weight = ApprovalGate.defaultCanaryWeight,
        requireApproval: Bool? = nil, approvalTimeoutMilliseconds: Int64 = ApprovalGate.defaultTimeoutMilliseconds,
        onTimeout: ApprovalGate.TimeoutAction = .rollback, afterApproval: ApprovalGate.AfterApproval = .continue,
        approvers: [String] = [], notify: [NotificationTarget] = []
    ) {
        self.name = name
        self.strategy = strategy
        self.canaryWeight = canaryWeight
        self.requireApproval = requireApproval ?? Self.requiresApprovalByDefault(name)
        self.approvalTimeoutMilliseconds = approvalTimeoutMilliseconds
        self.onTimeout = onTimeout
        self.afterApproval = afterApproval
        self.approvers = approvers
        self.notify = notify
    }

    /// Lower environments are pre-approved unless told otherwise; any other name is gated, the safe side.
    public static func requiresApprovalByDefault(_ name: String) -> Bool {
        !["dev", "development", "qa", "test", "staging-dev", "sandbox"].contains(name.lowercased())
    }

    /// The environments that exist before anyone configures one.
    public static let builtIn: [EnvironmentPolicy] = ["dev", "qa", "prod"].map { EnvironmentPolicy(name: $0) }

    /// Checks an environment's name: 1 to 32 letters, digits, `-` or `_`, starting with a letter.
    public static func validateName(_ name: String) throws(DeploymentError) {
        guard (1...32).contains(name.count), name.first!.isASCIILetter,
            name.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "-" || $0 == "_" })
        else {
            throw .invalidRequest("an environment name is 1 to 32 letters, digits, - or _, starting with a letter; not '\(name)'")
        }
    }

    /// Checks every setting.
    public func validated() throws(DeploymentError) -> EnvironmentPolicy {
        try Self.validateName(name)
        _ = try gate.validated()
        guard notify.count <= 20 else { throw .invalidRequest("an environment has at most 20 notification targets") }
        return self
    }

    /// The gate a deployment to this environment passes.
    public var gate: ApprovalGate {
        ApprovalGate(
            canaryWeight: canaryWeight, preApproved: !requireApproval, timeoutMilliseconds: approvalTimeoutMilliseconds,
            onTimeout: onTimeout, afterApproval: afterApproval, approvers: approvers, environment: name)
    }
}

/// Where deployment events are announced: a Slack-compatible incoming webhook, or a generic JSON webhook.
public struct NotificationTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case slack
        case webhook
    }

    public let kind: Kind
    public let url: String

    public init(kind: Kind, url: String) {
        self.kind = kind
        self.url = url
    }

    /// `slack:https://hooks.slack.com/…` or `webhook:https://…` (a bare URL is a generic webhook).
    public static func parse(_ text: String) throws(DeploymentError) -> NotificationTarget {
        var kind = Kind.webhook
        var url = Substring(text)
        for candidate in Kind.allCases where text.hasPrefix(candidate.rawValue + ":") {
            kind = candidate
            url = text.dropFirst(candidate.rawValue.count + 1)
        }
        if url.contains("…") {
            throw .invalidRequest("'\(text)' is a target as Aviary shows it, with its secret hidden; give the full URL")
        }
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), url.count > 8, url.count <= 2048,
            !url.contains(where: { $0.isWhitespace })
        else {
            throw .invalidRequest("a notification target is slack:URL or webhook:URL with an http(s) URL, not '\(text)'")
        }
        return NotificationTarget(kind: kind, url: String(url))
    }

    public var description: String { "\(kind.rawValue):\(url)" }
}

extension Character {
    var isASCIILetter: Bool { isASCII && isLetter }
}

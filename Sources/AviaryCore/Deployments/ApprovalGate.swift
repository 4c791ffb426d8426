/// A manual gate in a deployment: after the pre-traffic hook the new version takes `canaryWeight` of
/// the traffic and the deployment waits for a person to approve or roll back, still judged on health.
/// A pre-approved gate (lower environments) is passed through the same way, approved by the policy.
public struct ApprovalGate: Sendable, Hashable, Codable {
    public enum TimeoutAction: String, Sendable, Hashable, Codable, CaseIterable {
        case rollback
        case approve
    }

    public enum AfterApproval: String, Sendable, Hashable, Codable, CaseIterable {
        /// Run the strategy's steps from the first.
        case `continue`
        /// Move all traffic to the new version at once.
        case promote
    }

    /// The new version's share of the traffic while the gate waits (0 holds it back entirely).
    public var canaryWeight: Weight
    /// Approval is granted up front: the gate opens as soon as it is reached.
    public var preApproved: Bool
    public var timeoutMilliseconds: Int64
    public var onTimeout: TimeoutAction
    public var afterApproval: AfterApproval
    /// Who may approve or roll back at the gate (case-insensitive names); empty: anyone holding a link
    /// or access to the API.
    public var approvers: [String]
    /// The environment whose policy set the gate up, if any.
    public var environment: String?

    public static let defaultCanaryWeight = Weight(0.1)!
    public static let defaultTimeoutMilliseconds: Int64 = 24 * 3_600_000
    public static let maximumTimeoutMilliseconds: Int64 = 30 * 24 * 3_600_000

    public init(
        canaryWeight: Weight = ApprovalGate.defaultCanaryWeight, preApproved: Bool = false,
        timeoutMilliseconds: Int64 = ApprovalGate.defaultTimeoutMilliseconds, onTimeout: TimeoutAction = .rollback,
        afterApproval: AfterApproval = .continue, approvers: [String] = [], environment: String? = nil
    ) {
        self.canaryWeight = canaryWeight
        self.preApproved = preApproved
        self.timeoutMilliseconds = timeoutMilliseconds
        self.onTimeout = onTimeout
        self.afterApproval = afterApproval
        self.approvers = approvers
        self.environment = environment
    }

    /// Checks the settings a client chose.
    public func validated() throws(DeploymentError) -> ApprovalGate {
        guard canaryWeight.value < 1 else {
            throw .invalidRequest("the canary weight before approval must be below 1 (it is the new version's share while waiting)")
        }
        guard (1000...Self.maximumTimeoutMilliseconds).contains(timeoutMilliseconds) else {
            throw .invalidRequest("the approval timeout must be between 1s and 30 days")
        }
        guard approvers.count <= 100, approvers.allSatisfy({ !$0.isEmpty && $0.count <= 128 }) else {
            throw .invalidRequest("approvers holds at most 100 names of 1 to 128 characters")
        }
        return self
    }

    /// Whether `actor` may decide at this gate.
    public func allows(_ actor: String?) -> Bool {
        guard !approvers.isEmpty else { return true }
        guard let actor = actor?.lowercased() else { return false }
        return approvers.contains { $0.lowercased() == actor }
    }
}

/// What happened at a deployment's gate: when it was reached, the links minted for it, and the decision.
public struct ApprovalState: Sendable, Hashable, Codable {
    public let requestedAt: Timestamp
    /// The gate's deadline, and the expiry of its links.
    public let expiresAt: Timestamp
    /// The ids of the two single-use links (the signed tokens carry them).
    public let approveTokenID: String
    public let rollbackTokenID: String
    public internal(set) var decision: Decision?

    public struct Decision: Sendable, Hashable, Codable {
        public enum Kind: String, Sendable, Hashable, Codable {
            case approved = "Approved"
            case rolledBack = "RolledBack"
        }

        public let kind: Kind
        public let at: Timestamp
        public let by: String?
        /// How: `policy` (pre-approved), `link`, `api` or `timeout`.
        public let via: String
        /// The link used, if the decision came through one.
        public let tokenID: String?
        /// The client's address, for decisions from outside.
        public let source: String?
    }

    /// Whether the link `tokenID` has already been used.
    public func used(_ tokenID: String) -> Decision? {
        decision.flatMap { $0.tokenID == tokenID ? $0 : nil }
    }
}

/// Who decided at a gate and through what, carried by the `approve` and `rollback` events.
public struct Approver: Sendable, Hashable {
    public let name: String?
    /// `link`, `api`, `policy` or `timeout`.
    public let via: String
    public let tokenID: String?
    public let source: String?

    public init(name: String?, via: String, tokenID: String? = nil, source: String? = nil) {
        self.name = name
        self.via = via
        self.tokenID = tokenID
        self.source = source
    }
}

/// Moving one alias from its current version to a new one under a strategy, guarded by health checks
/// and hooks: the record the engine drives, persists at every transition, and resumes after a restart.
///
/// The transitions are pure (`Deployment+Transitions.swift`): an event and the time go in, the new
/// state and the effects the engine must carry out come out.
public struct Deployment: Sendable, Hashable, Codable {
    public let id: DeploymentID
    public let function: FunctionName
    public let alias: AliasName
    /// The alias's primary version when the deployment began: where a rollback returns.
    public let fromVersion: VersionNumber
    public let toVersion: VersionNumber
    public let strategy: Strategy
    public let health: HealthPolicy
    public let hooks: Hooks
    /// Environments of the new version started before it takes any traffic.
    public let prewarm: Int
    /// How long the promoted version is still watched (and reverted on failure) after promotion.
    public let bakeMilliseconds: Int64
    public let description: String
    /// Free-form facts about where the change comes from: repository, build, actor…
    public let metadata: [String: String]
    public let createdAt: Timestamp
    /// The rolled-back deployment this one retries.
    public let retryOf: DeploymentID?
    /// The RevisionIds of both versions when the deployment began: versions are immutable, so a
    /// function deleted and re-created under the same name is told apart by them.
    public let fromRevisionId: String?
    public let toRevisionId: String?
    /// The manual gate after the pre-traffic hook, if the deployment has one.
    public let gate: ApprovalGate?
    /// Set when the deployment is a release of an application (several aliases in lockstep).
    public let release: ReleaseInfo?
    /// Stored under its own name so that deployments recorded before notifications existed still decode.
    let notifyTargets: [NotificationTarget]?

    public internal(set) var status: DeploymentStatus
    /// The step of `strategy.steps` being held while shifting; `steps.count` once promoted.
    public internal(set) var stepIndex: Int
    /// When the current step, hook or bake began (moved forward by the time spent paused).
    public internal(set) var phaseStartedAt: Timestamp
    public internal(set) var pausedAt: Timestamp?
    /// The new version's share of the alias's traffic now.
    public internal(set) var weight: Double
    /// The hook running now, or the last one that ran.
    public internal(set) var hook: HookExecution?
    /// Hooks that ran before `hook` (a late report for one of them is "already completed").
    public internal(set) var earlierHooks: [HookExecution]
    /// Set while a step's time is up but it still lacks the invocations it needs.
    public internal(set) var awaitingEvidence: Bool
    /// Set when traffic was about to start while the deployment was paused: it starts on resume.
    public internal(set) var trafficHeld: Bool
    /// The gate's links and decision, once the gate is reached.
    public internal(set) var approval: ApprovalState?
    /// Why it ended, once it has.
    public internal(set) var outcome: Outcome?
    public internal(set) var history: [HistoryEntry]
    public internal(set) var updatedAt: Timestamp

    public init(
        id: DeploymentID, function: FunctionName, alias: AliasName, fromVersion: VersionNumber, toVersion: VersionNumber,
        strategy: Strategy, health: HealthPolicy = .standard, hooks: Hooks = Hooks(), prewarm: Int = 1,
        bakeMilliseconds: Int64 = 0, description: String = "", metadata: [String: String] = [:], createdAt: Timestamp,
        createdBy: String? = nil, reason: String? = nil, retryOf: DeploymentID? = nil, fromRevisionId: String? = nil,
        toRevisionId: String? = nil, gate: ApprovalGate? = nil, notify: [NotificationTarget] = [], release: ReleaseInfo? = nil
    ) {
        self.id = id
        self.function = function
        self.alias = alias
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.strategy = strategy
        self.health = health
        self.hooks = hooks
        self.prewarm = prewarm
        self.bakeMilliseconds = bakeMilliseconds
        self.description = description
        self.metadata = metadata
        self.createdAt = createdAt
        self.retryOf = retryOf
        self.fromRevisionId = fromRevisionId
        self.toRevisionId = toRevisionId
        self.gate = gate
        self.release = release
        self.notifyTargets = notify.isEmpty ? nil : notify
        self.approval = nil
        self.status = .created
        self.stepIndex = 0
        self.phaseStartedAt = createdAt
        self.pausedAt = nil
        self.weight = 0
        self.hook = nil
        self.earlierHooks = []
        self.awaitingEvidence = false
        self.trafficHeld = false
        self.outcome = nil
        let moving =
            release.map { release in
                "release \(release.number) of \(release.application): "
                    + ([DeploymentTarget(function: function, alias: alias, fromVersion: fromVersion, toVersion: toVersion)] + release.members)
                    .map(\.description).joined(separator: ", ")
            } ?? "\(alias) \(fromVersion) → \(toVersion)"
        let created = "created: \(moving) by \(strategy)" + (retryOf.map { ", retrying \($0)" } ?? "")
        self.history = [HistoryEntry(at: createdAt, status: .created, message: created + Self.because(reason), by: createdBy)]
        self.updatedAt = createdAt
    }

    public var isActive: Bool { status.isActive }
    /// Where the deployment's events are announced.
    public var notify: [NotificationTarget] { notifyTargets ?? [] }
    public var isPaused: Bool { pausedAt != nil }

    /// The step being held, while shifting.
    public var currentStep: Strategy.Step? {
        status == .shifting && stepIndex < strategy.steps.count ? strategy.steps[stepIndex] : nil
    }
}

/// Where a deployment is in its life.
public enum DeploymentStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Accepted, not yet started by the engine.
    case created = "Created"
    /// Waiting for the pre-traffic hook; the new version has no alias traffic yet.
    case preTraffic = "PreTraffic"
    /// Holding the gate's canary weight until a person approves or rolls back (still judged on health).
    case awaitingApproval = "AwaitingApproval"
    /// Holding a step of the strategy.
    case shifting = "Shifting"
    /// Promoted; waiting for the post-traffic hook.
    case postTraffic = "PostTraffic"
    /// Promoted and still watched; a failure reverts to the old version.
    case baking = "Baking"
    case succeeded = "Succeeded"
    /// The alias went back to the old version.
    case rolledBack = "RolledBack"
    /// Could not be carried out (the alias or a version changed under it); the alias was left alone.
    case failed = "Failed"

    public var isActive: Bool {
        switch self {
        case .created, .preTraffic, .awaitingApproval, .shifting, .postTraffic, .baking: true
        case .succeeded, .rolledBack, .failed: false
        }
    }
}

/// The pre- and post-traffic validation functions of a deployment.
public struct Hooks: Sendable, Hashable, Codable {
    public var preTraffic: HookTarget?
    public var postTraffic: HookTarget?
    /// How long a hook may take to report before the deployment rolls back.
    public var timeoutMilliseconds: Int64

    public static let defaultTimeoutMilliseconds: Int64 = 5 * 60_000

    public init(preTraffic: HookTarget? = nil, postTraffic: HookTarget? = nil, timeoutMilliseconds: Int64 = Hooks.defaultTimeoutMilliseconds) {
        self.preTraffic = preTraffic
        self.postTraffic = postTraffic
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

/// A function (optionally qualified) invoked as a hook.
public struct HookTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    public let function: FunctionName
    public let qualifier: String?

    public init(function: FunctionName, qualifier: String? = nil) {
        self.function = function
        self.qualifier = qualifier
    }

    public var description: String { qualifier.map { "\(function):\($0)" } ?? function.rawValue }
}

/// One run of a hook, identified as CodeDeploy's `LifecycleEventHookExecutionId`.
public struct HookExecution: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case preTraffic = "BeforeAllowTraffic"
        case postTraffic = "AfterAllowTraffic"
    }

    public enum State: String, Sendable, Hashable, Codable {
        case inProgress = "InProgress"
        case succeeded = "Succeeded"
        case failed = "Failed"
    }

    public let id: String
    public let kind: Kind
    public let target: HookTarget
    public let startedAt: Timestamp
    public internal(set) var state: State
}

/// How a finished deployment ended and why.
public struct Outcome: Sendable, Hashable, Codable {
    public enum Cause: String, Sendable, Hashable, Codable {
        case promoted = "Promoted"
        case healthCheck = "HealthCheck"
        case hookFailed = "HookFailed"
        case hookTimedOut = "HookTimedOut"
        case noEvidence = "NoEvidence"
        case manual = "Manual"
        case approvalTimedOut = "ApprovalTimedOut"
        /// An application was put back on an earlier release at once (`rollback --to`).
        case restored = "Restored"
        /// An application's state recorded as a release without a gradual deployment (its first deploy).
        case recorded = "Recorded"
        case aliasChanged = "AliasChanged"
    }

    public let cause: Cause
    public let message: String
    public let at: Timestamp
    public let by: String?
    /// Both versions' health when the decision was taken.
    public let report: HealthReport?
}

/// One line of a deployment's history: what happened, when, and who asked for it.
public struct HistoryEntry: Sendable, Hashable, Codable {
    public let at: Timestamp
    public let status: DeploymentStatus
    public let message: String
    public let by: String?
    /// What the entry records when the status alone does not say it (`approved`), for the audit trail.
    public let event: String?
    /// The client's address, for decisions from outside.
    public let source: String?

    init(at: Timestamp, status: DeploymentStatus, message: String, by: String?, event: String? = nil, source: String? = nil) {
        self.at = at
        self.status = status
        self.message = message
        self.by = by
        self.event = event
        self.source = source
    }
}

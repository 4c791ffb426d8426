public import AviaryCore

/// What a client asks for when it starts a deployment; validated against the registry by the engine.
public struct DeploymentRequest: Sendable {
    public var function: FunctionName
    public var alias: AliasName
    public var toVersion: VersionNumber
    /// The version the alias must point to now (nil: whatever it points to).
    public var fromVersion: VersionNumber?
    public var strategy: Strategy
    public var health: HealthPolicy
    public var hooks: Hooks
    public var prewarm: Int
    public var bakeMilliseconds: Int64
    public var description: String
    public var metadata: [String: String]
    /// Who asked and why (shown in the history).
    public var actor: String?
    public var reason: String?
    /// The manual gate after the pre-traffic hook (an environment's policy, or asked for directly).
    public var gate: ApprovalGate?
    /// Where the deployment's events are announced.
    public var notify: [NotificationTarget] = []
    /// Set for a release: `function`/`alias`/`toVersion` are then its first member.
    public var release: ReleaseRequest?

    public init(
        function: FunctionName, alias: AliasName, toVersion: VersionNumber, fromVersion: VersionNumber? = nil,
        strategy: Strategy, health: HealthPolicy = .standard, hooks: Hooks = Hooks(), prewarm: Int = 1,
        bakeMilliseconds: Int64 = 0, description: String = "", metadata: [String: String] = [:], actor: String? = nil,
        gate: ApprovalGate? = nil, notify: [NotificationTarget] = []
    ) {
        self.function = function
        self.alias = alias
        self.toVersion = toVersion
        self.fromVersion = fromVersion
        self.strategy = strategy
        self.health = health
        self.hooks = hooks
        self.prewarm = prewarm
        self.bakeMilliseconds = bakeMilliseconds
        self.description = description
        self.metadata = metadata
        self.actor = actor
        self.gate = gate
        self.notify = notify
    }
}

/// The rest of a release: its application, the other aliases it moves, and the functions it leaves as
/// they are (for the manifest).
public struct ReleaseRequest: Sendable {
    public var application: String
    public var members: [Member]
    public var unchanged: [ManifestEntry]
    /// The first function's own health policy (the request's `health` is the release's).
    public var leadHealth: HealthPolicy?

    public struct Member: Sendable {
        public var function: FunctionName
        public var alias: AliasName
        public var toVersion: VersionNumber
        /// The function's own health policy (its template's alarms); nil: the release's.
        public var health: HealthPolicy?

        public init(function: FunctionName, alias: AliasName, toVersion: VersionNumber, health: HealthPolicy? = nil) {
            self.function = function
            self.alias = alias
            self.toVersion = toVersion
            self.health = health
        }
    }

    public init(application: String, members: [Member], unchanged: [ManifestEntry], leadHealth: HealthPolicy? = nil) {
        self.application = application
        self.members = members
        self.unchanged = unchanged
        self.leadHealth = leadHealth
    }
}

/// A refused hook report, with CodeDeploy's error code (what `PutLifecycleEventHookExecutionStatus`
/// answers).
public struct HookReportError: Error, Sendable, Equatable {
    public let code: String
    public let message: String

    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}

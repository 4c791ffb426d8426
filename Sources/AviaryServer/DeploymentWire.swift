import AviaryCore
import AviaryEngine

// Shapes of Aviary's own deployment API (`/v1/deployments`), described in openapi.json.

/// `POST /v1/deployments`: the alias to move, and the settings.
struct CreateDeploymentWire: Decodable {
    var function: String
    var alias: String
    var targetVersion: FlexibleString
    var currentVersion: FlexibleString?
    var settings: DeploymentSettingsWire

    enum CodingKeys: String, CodingKey {
        case function, alias, targetVersion, currentVersion
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        function = try container.decode(String.self, forKey: .function)
        alias = try container.decode(String.self, forKey: .alias)
        targetVersion = try container.decode(FlexibleString.self, forKey: .targetVersion)
        currentVersion = try container.decodeIfPresent(FlexibleString.self, forKey: .currentVersion)
        settings = try DeploymentSettingsWire(from: decoder)
    }
}

/// `POST /v1/releases`: an application's changed functions, its unchanged ones, and the settings.
struct CreateReleaseWire: Decodable {
    var application: String
    var functions: [Member]
    var unchanged: [Unchanged]?
    var settings: DeploymentSettingsWire

    struct Member: Decodable {
        var function: String
        var alias: String
        var targetVersion: FlexibleString
        /// The function's own health rules (its template's alarms); absent: the release's.
        var rules: [String]?
    }

    struct Unchanged: Decodable {
        var function: String
        var alias: String
        var version: FlexibleString
    }

    enum CodingKeys: String, CodingKey {
        case application, functions, unchanged
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        application = try container.decode(String.self, forKey: .application)
        functions = try container.decode([Member].self, forKey: .functions)
        unchanged = try container.decodeIfPresent([Unchanged].self, forKey: .unchanged)
        settings = try DeploymentSettingsWire(from: decoder)
    }
}

/// How a deployment (or release) runs: the same fields in both requests.
struct DeploymentSettingsWire: Decodable {
    var strategy: String?
    var health: HealthWire?
    var hooks: HooksWire?
    var prewarm: Int?
    var bake: String?
    var description: String?
    var metadata: [String: String]?
    var actor: String?
    /// The environment whose policy applies (strategy, gate, notifications).
    var environment: String?
    /// Gate settings over the environment's (or a gate of the deployment's own).
    var approval: GateSettingsWire?
    /// Notification targets in addition to the environment's.
    var notify: [String]?

    struct HealthWire: Decodable {
        var rules: [String]?
        var comparison: Bool?
        var alpha: Double?
        var minimumInvocations: Int?
        var noData: String?
    }

    struct HooksWire: Decodable {
        var preTraffic: String?
        var postTraffic: String?
        var timeout: String?
    }
}

/// A version given as `"2"` or `2`.
struct FlexibleString: Decodable {
    let value: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            value = String(number)
        } else {
            value = try container.decode(String.self)
        }
    }
}

/// The body of promote / pause / resume / rollback / retry: who asks and why (both optional).
struct ActionWire: Decodable {
    var actor: String?
    var reason: String?
}

/// `POST /v1/deployments/{id}/hooks/{executionId}`.
struct HookReportWire: Decodable {
    var status: String
}

/// CodeDeploy's `PutLifecycleEventHookExecutionStatus` input (JSON 1.1).
struct LifecycleHookStatusWire: Decodable {
    var deploymentId: String?
    var lifecycleEventHookExecutionId: String?
    var status: String?
}

struct DeploymentWire: Encodable {
    var id: String
    var function: String
    var alias: String
    var currentVersion: String
    var targetVersion: String
    var strategy: StrategyWire
    var status: String
    var paused: Bool
    /// 1-based step while shifting; 0 before traffic; steps + 1 once promoted.
    var step: Int
    var steps: Int
    var weight: Double
    var nextTransitionAt: String?
    var awaitingEvidence: Bool
    var createdAt: String
    var updatedAt: String
    var description: String
    var metadata: [String: String]
    var retryOf: String?
    var prewarm: Int
    var bake: String
    var hooks: HooksWire
    var hook: HookWire?
    var health: HealthWire
    var outcome: OutcomeWire?
    var release: ReleaseWire?
    var history: [HistoryWire]

    struct ReleaseWire: Encodable {
        var application: String
        var number: Int
        /// The aliases it moves (the deployment's own first).
        var functions: [TargetWire]
        /// Every function of the application and its version once the release is live.
        var manifest: [ManifestWire]
    }

    struct TargetWire: Encodable {
        var function: String
        var alias: String
        var currentVersion: String
        var targetVersion: String
    }

    struct ManifestWire: Encodable {
        var function: String
        var alias: String
        var version: String
    }
    var environment: String?
    var approval: ApprovalWire?
    var notify: [String]
    var notifications: [NotificationWire]

    struct NotificationWire: Encodable {
        var target: String
        var event: String
        var state: String
        var attempts: Int
        var lastError: String?
        var lastAttemptAt: String?
    }

    struct ApprovalWire: Encodable {
        /// `Pending`, `Approved` or `RolledBack`.
        var status: String
        var canaryWeight: Double
        var preApproved: Bool
        var timeout: String
        var onTimeout: String
        var afterApproval: String
        var approvers: [String]
        var requestedAt: String?
        var expiresAt: String?
        var decision: DecisionWire?
        /// The approve and roll-back links, while the gate waits.
        var links: LinksWire?
    }

    struct DecisionWire: Encodable {
        var kind: String
        var at: String
        var by: String?
        var via: String
        var source: String?
    }

    struct LinksWire: Encodable {
        var approve: String
        var rollback: String
    }

    struct StrategyWire: Encodable {
        var name: String
        var steps: [StepWire]
        var promotionAfter: String
    }

    struct StepWire: Encodable {
        var weight: Double
        var duration: String
    }

    struct HooksWire: Encodable {
        var preTraffic: String?
        var postTraffic: String?
        var timeout: String
    }

    struct HookWire: Encodable {
        var executionId: String
        var lifecycleEvent: String
        var function: String
        var status: String
        var startedAt: String
    }

    struct HealthWire: Encodable {
        var rules: [String]
        var comparison: ComparisonWire?
        var minimumInvocations: Int
        var noData: String
        /// Live figures while the deployment runs.
        var live: ReportWire?
    }

    struct ComparisonWire: Encodable {
        var alpha: Double
    }

    struct OutcomeWire: Encodable {
        var cause: String
        var message: String
        var at: String
        var by: String?
        var report: ReportWire?
    }

    struct HistoryWire: Encodable {
        var at: String
        var status: String
        var message: String
        var by: String?
        var source: String?
    }
}

struct ReportWire: Encodable {
    var target: VersionWire
    var current: VersionWire
    var comparisonEvidence: Double?
    var stepInvocations: Int
    var finding: FindingWire?
    /// When the figures were taken.
    var at: String?

    struct VersionWire: Encodable {
        var invocations: Int
        var errors: Int
        var throttles: Int
        var errorRate: Double?
        var p99Milliseconds: Double?
    }

    struct FindingWire: Encodable {
        var check: String
        var detail: String
    }

    init(_ report: HealthReport) {
        func version(_ health: VersionHealth) -> VersionWire {
            VersionWire(
                invocations: health.invocations, errors: health.errors, throttles: health.throttles,
                errorRate: health.errorRate, p99Milliseconds: health.p99Milliseconds.map { ($0 * 100).rounded() / 100 })
        }
        target = version(report.canary)
        current = version(report.baseline)
        comparisonEvidence = report.comparisonEvidence.map { $0.isFinite ? ($0 * 1000).rounded() / 1000 : $0 }
        stepInvocations = report.stepInvocations
        finding = report.finding.map { FindingWire(check: $0.check, detail: $0.detail) }
        at = report.at?.description
    }
}

extension DeploymentWire {
    init(_ deployment: Deployment, live: HealthReport?, links: ApprovalLinks? = nil, notifications: [NotificationDelivery] = []) {
        let steps = deployment.strategy.steps.count
        let step: Int =
            switch deployment.status {
            case .created, .preTraffic, .awaitingApproval: 0
            case .shifting: deployment.stepIndex + 1
            case .postTraffic, .baking, .succeeded: steps + 1
            case .rolledBack, .failed: deployment.history.contains { $0.status == .shifting } ? deployment.stepIndex + 1 : 0
            }
        self.init(
            id: deployment.id.rawValue, function: deployment.function.rawValue, alias: deployment.alias.rawValue,
            currentVersion: deployment.fromVersion.description, targetVersion: deployment.toVersion.description,
            strategy: StrategyWire(
                name: deployment.strategy.name,
                steps: deployment.strategy.steps.map {
                    StepWire(weight: $0.weight.value, duration: DurationText.format(milliseconds: $0.milliseconds))
                },
                promotionAfter: DurationText.format(milliseconds: deployment.strategy.promotionAfterMilliseconds)),
            status: deployment.status.rawValue, paused: deployment.isPaused, step: step, steps: steps,
            weight: deployment.weight, nextTransitionAt: deployment.nextDeadline()?.description,
            awaitingEvidence: deployment.awaitingEvidence, createdAt: deployment.createdAt.description,
            updatedAt: deployment.updatedAt.description, description: deployment.description,
            metadata: deployment.metadata, retryOf: deployment.retryOf?.rawValue, prewarm: deployment.prewarm,
            bake: DurationText.format(milliseconds: deployment.bakeMilliseconds),
            hooks: HooksWire(
                preTraffic: deployment.hooks.preTraffic?.description, postTraffic: deployment.hooks.postTraffic?.description,
                timeout: DurationText.format(milliseconds: deployment.hooks.timeoutMilliseconds)),
            hook: deployment.hook.map {
                HookWire(
                    executionId: $0.id, lifecycleEvent: $0.kind.rawValue, function: $0.target.description,
                    status: $0.state.rawValue, startedAt: $0.startedAt.description)
            },
            health: HealthWire(
                rules: deployment.health.rules.map(\.description),
                comparison: deployment.health.comparison.map { ComparisonWire(alpha: $0.alpha) },
                minimumInvocations: deployment.health.minimumInvocations, noData: deployment.health.noData.rawValue,
                live: live.map(ReportWire.init)),
            outcome: deployment.outcome.map {
                OutcomeWire(
                    cause: $0.cause.rawValue, message: $0.message, at: $0.at.description, by: $0.by,
                    report: $0.report.map(ReportWire.init))
            },
            release: deployment.release.map { release in
                ReleaseWire(
                    application: release.application, number: release.number,
                    functions: deployment.targets.map {
                        TargetWire(
                            function: $0.function.rawValue, alias: $0.alias.rawValue, currentVersion: $0.fromVersion.description,
                            targetVersion: $0.toVersion.description)
                    },
                    manifest: release.manifest.map {
                        ManifestWire(function: $0.function.rawValue, alias: $0.alias.rawValue, version: $0.version.description)
                    })
            },
            history: deployment.history.map {
                HistoryWire(at: $0.at.description, status: $0.status.rawValue, message: $0.message, by: $0.by, source: $0.source)
            },
            environment: deployment.gate?.environment,
            approval: deployment.gate.map { gate in
                let approval = deployment.approval
                let pending = approval != nil && approval?.decision == nil && deployment.isActive
                let status = approval?.decision?.kind.rawValue ?? (approval == nil ? "NotReached" : pending ? "Pending" : "Closed")
                return ApprovalWire(
                    status: status,
                    canaryWeight: gate.canaryWeight.value, preApproved: gate.preApproved,
                    timeout: DurationText.format(milliseconds: gate.timeoutMilliseconds), onTimeout: gate.onTimeout.rawValue,
                    afterApproval: gate.afterApproval.rawValue, approvers: gate.approvers, requestedAt: approval?.requestedAt.description,
                    expiresAt: approval?.expiresAt.description,
                    decision: approval?.decision.map {
                        DecisionWire(kind: $0.kind.rawValue, at: $0.at.description, by: $0.by, via: $0.via, source: $0.source)
                    },
                    links: pending ? links.map { LinksWire(approve: $0.approve, rollback: $0.rollback) } : nil)
            },
            notify: deployment.notify.map(\.redacted),
            notifications: notifications.map {
                NotificationWire(
                    target: $0.target, event: $0.event.rawValue, state: $0.state.rawValue, attempts: $0.attempts, lastError: $0.lastError,
                    lastAttemptAt: $0.lastAttemptAt?.description)
            })
    }
}

struct DeploymentListWire: Encodable {
    var deployments: [DeploymentWire]
    var nextMarker: String?
}

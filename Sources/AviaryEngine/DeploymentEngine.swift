public import AviaryCore
public import AviaryRuntime
public import AviaryStore
import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// Runs deployments: drives each through the Core state machine on real time, applies its alias
/// changes (persisted with its state in one transaction), judges health on every invocation of the
/// alias, runs hooks, and resumes whatever was in flight after a restart.
///
/// Every transition goes through one serial queue (`run()`), so two never race. The invoke path only
/// touches a dictionary under a lock: it records the outcome in the deployment's judge and, on a
/// failing verdict, queues the rollback, which is then applied within milliseconds.
public final class DeploymentEngine: Service, Sendable {
    let store: RegistryStore
    let runtime: FunctionRuntime
    let events: EventQueue
    let scope: AccountScope
    let logger: Logger
    public let now: @Sendable () -> Timestamp
    let tickInterval: Duration
    /// Mints the links of approval gates.
    public let signer: LinkSigner
    /// Announces deployment events to their environments' webhooks.
    public let notifier: Notifier?
    private let commands: AsyncStream<Command>
    let queue: AsyncStream<Command>.Continuation
    let watched = Mutex(Watched())

    /// The active deployments, as last persisted, with their judges.
    struct Watched {
        var deployments: [DeploymentID: Tracked] = [:]
        var byAlias: [AliasKey: DeploymentID] = [:]
    }

    struct AliasKey: Hashable {
        let function: FunctionName
        let alias: AliasName
    }

    struct Tracked {
        var deployment: Deployment
        /// All the deployment's requests together: a single deployment's judge, a release's aggregate.
        var judge: HealthJudge
        /// A release's judges per function, each with the function's own policy.
        var members: [AliasKey: HealthJudge]
        /// A failing verdict was queued and not handled yet.
        var failureQueued = false

        init(_ deployment: Deployment) {
            self.deployment = deployment
            judge = HealthJudge(policy: deployment.health)
            members = [:]
            if deployment.release != nil {
                for target in deployment.targets {
                    members[AliasKey(function: target.function, alias: target.alias)] = HealthJudge(policy: target.health ?? deployment.health)
                }
            }
        }

        /// Records one request of one of the deployment's aliases; returns the report behind a failing
        /// verdict, once.
        mutating func observe(
            _ key: AliasKey, _ executed: VersionNumber, _ observation: MetricsRecorder.Observation, at time: Timestamp
        ) -> HealthReport? {
            guard let target = deployment.targets.first(where: { $0.function == key.function && $0.alias == key.alias }) else { return nil }
            let role: HealthJudge.Role
            if executed == target.toVersion {
                role = .canary
            } else if executed == target.fromVersion {
                role = .baseline
            } else {
                return nil
            }
            let weight = deployment.weight
            func record(_ judge: inout HealthJudge) {
                switch observation {
                case .invocation(let failed, let milliseconds):
                    judge.recordInvocation(role, failed: failed, durationMilliseconds: milliseconds, weight: weight, at: time)
                case .throttle:
                    judge.recordThrottle(role, at: time)
                }
            }
            record(&judge)
            if members[key] != nil { record(&members[key]!) }
            // Only the new versions' requests can turn the verdict: the old versions' only weaken the
            // comparison's evidence, and what time alone decides is the tick's.
            guard role == .canary, !failureQueued, let report = failing(at: time) else { return nil }
            failureQueued = true
            return report
        }

        /// The report behind a failing verdict: the first failing function's (named: the more precise
        /// finding), else the aggregate's.
        func failing(at time: Timestamp) -> HealthReport? {
            for (key, member) in members.sorted(by: { $0.key.function.rawValue < $1.key.function.rawValue }) {
                guard member.finding(at: time) != nil else { continue }
                let report = member.report(at: time)
                return HealthReport(
                    canary: report.canary, baseline: report.baseline, comparisonEvidence: report.comparisonEvidence,
                    stepInvocations: report.stepInvocations,
                    finding: report.finding.map { HealthFinding(check: "\(key.function) \($0.check)", detail: $0.detail) }, at: report.at)
            }
            return judge.finding(at: time) != nil ? judge.report(at: time) : nil
        }

        mutating func startStep() {
            judge.startStep()
            for key in members.keys { members[key]!.startStep() }
        }
    }

    enum Command: Sendable {
        case create(DeploymentRequest, retryOf: DeploymentID?, Reply)
        case event(DeploymentID, DeploymentEvent, Reply?)
        case restore(application: String, number: Int, actor: String?, reason: String?, @Sendable (Result<Deployment?, any Error>) -> Void)
        case record(application: String, manifest: [ManifestEntry], note: String, actor: String?, @Sendable (Result<Deployment?, any Error>) -> Void)
        case tick
    }

    typealias Reply = @Sendable (Result<Deployment, any Error>) -> Void

    public init(
        store: RegistryStore, runtime: FunctionRuntime, events: EventQueue, scope: AccountScope, logger: Logger,
        now: @escaping @Sendable () -> Timestamp = RegistryStore.systemNow, tickInterval: Duration = .milliseconds(100),
        signer: LinkSigner = LinkSigner.ephemeral(), notifier: Notifier? = nil
    ) {
        self.signer = signer
        self.notifier = notifier
        self.store = store
        self.runtime = runtime
        self.events = events
        self.scope = scope
        self.logger = logger
        self.now = now
        self.tickInterval = tickInterval
        (commands, queue) = AsyncStream.makeStream(of: Command.self)
        runtime.metrics.observeAliasInvocations { [weak self] key, observation in
            self?.observe(key, observation)
        }
    }

    // MARK: Service

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.tickUntilShutdown() }
            await resumeInFlight(group: &group)
            for await command in commands.cancelOnGracefulShutdown() {
                await handle(command, group: &group)
            }
            group.cancelAll()
        }
    }

    private func tickUntilShutdown() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: tickInterval)
            queue.yield(.tick)
        }
    }

    /// After a restart: every deployment the store has as active continues from its persisted state.
    private func resumeInFlight(group: inout DiscardingTaskGroup) async {
        let active: [Deployment]
        do {
            active = try await store.deployments(activeOnly: true, limit: Int.max)
        } catch {
            logger.error("could not load deployments in flight", metadata: ["error": "\(error)"])
            return
        }
        for deployment in active.reversed() {
            track(deployment)
            logger.info("resuming deployment", metadata: metadata(deployment))
            await transition(deployment.id, .recover, group: &group)
        }
    }

    // MARK: Requests (any task)

    /// Starts a deployment; it is persisted and under way when this returns.
    public func start(_ request: DeploymentRequest) async throws -> Deployment {
        try await submit { .create(request, retryOf: nil, $0) }
    }

    /// Starts a new deployment with the same settings as a finished one that did not succeed.
    public func retry(_ id: DeploymentID, by actor: String?, reason: String? = nil) async throws -> Deployment {
        guard let old = try await store.deployment(id) else { throw DeploymentError.deploymentNotFound(id.rawValue) }
        guard old.status == .rolledBack || old.status == .failed else {
            throw DeploymentError.notAllowed("only a rolled-back or failed deployment can be retried; \(id) is \(old.status.rawValue)")
        }
        var request = DeploymentRequest(
            function: old.function, alias: old.alias, toVersion: old.toVersion, fromVersion: old.fromVersion,
            strategy: old.strategy, health: old.health, hooks: old.hooks, prewarm: old.prewarm,
            bakeMilliseconds: old.bakeMilliseconds, description: old.description, metadata: old.metadata, actor: actor,
            gate: old.gate, notify: old.notify)
        request.reason = reason
        return try await submit { .create(request, retryOf: id, $0) }
    }

    /// Applies a person's request (promote, pause, resume, rollback) and returns the new state.
    public func act(_ id: DeploymentID, _ event: DeploymentEvent) async throws -> Deployment {
        do {
            guard watched.withLock({ $0.deployments[id] != nil }) else {
                guard let finished = try await store.deployment(id) else { throw DeploymentError.deploymentNotFound(id.rawValue) }
                throw DeploymentError.finished(id, finished.status)
            }
            return try await submit { .event(id, event, $0) }
        } catch let refusal as DeploymentError {
            await recordRefusal(of: event, to: id, refusal)
            throw refusal
        }
    }

    /// A decision at a gate that came too late or from the wrong person is recorded too: when an approval
    /// loses the race against an automatic rollback, the audit shows both.
    public func recordRefusal(of event: DeploymentEvent, to id: DeploymentID, _ refusal: DeploymentError) async {
        let approver: Approver
        let action: String
        switch event {
        case .approve(let person, _): (approver, action) = (person, "deployment.approvalRefused")
        case .reject(let person, _): (approver, action) = (person, "deployment.rollbackRefused")
        default: return
        }
        guard refusal.kind != .notFound, let deployment = try? await store.deployment(id) else { return }
        var details = ["message": refusal.message, "via": approver.via, "status": deployment.status.rawValue]
        if let token = approver.tokenID { details["tokenId"] = token }
        let entry = AuditEvent(
            at: now(), actor: approver.name ?? "anonymous", source: approver.source, action: action, function: deployment.function,
            alias: deployment.alias, deployment: id, repository: deployment.metadata["repository"], build: deployment.metadata["build"],
            details: details)
        do { try await store.appendAudit([entry]) } catch {
            logger.error("could not record a refused decision", metadata: ["deployment": "\(id)", "error": "\(error)"])
        }
    }

    /// A deployment with its live health (nil for finished ones: their report is in the outcome).
    public func deployment(_ id: DeploymentID) async throws -> (Deployment, HealthReport?)? {
        let time = now()
        if let live = watched.withLock({ watched in
            watched.deployments[id].map { ($0.deployment, $0.judge.report(at: time)) }
        }) {
            return live
        }
        return try await store.deployment(id).map { ($0, nil) }
    }

    /// The live health of every active deployment.
    public func liveReports() -> [DeploymentID: HealthReport] {
        let time = now()
        return watched.withLock { $0.deployments.mapValues { $0.judge.report(at: time) } }
    }

    func submit(_ command: (@escaping Reply) -> Command) async throws -> Deployment {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Deployment, any Error>, Never>) in
            queue.yield(command { continuation.resume(returning: $0) })
        }
        return try result.get()
    }

    // MARK: Invocations (the invoke path)

    private func observe(_ key: MetricsRecorder.Key, _ observation: MetricsRecorder.Observation) {
        guard let alias = key.alias, case .published(let executed) = key.executedVersion else { return }
        let time = now()
        // In place: the judge's per-second figures are not copied on every invocation.
        let failing = watched.withLock { watched -> (DeploymentID, HealthReport)? in
            let aliasKey = AliasKey(function: key.function, alias: alias)
            guard let id = watched.byAlias[aliasKey],
                let report = watched.deployments[id]?.observe(aliasKey, executed, observation, at: time)
            else { return nil }
            return (id, report)
        }
        if let (id, report) = failing { queue.yield(.event(id, .healthFailed(report), nil)) }
    }

    // MARK: The serial queue

    private func handle(_ command: Command, group: inout DiscardingTaskGroup) async {
        switch command {
        case .create(let request, let retryOf, let reply):
            do {
                let deployment = try await create(request, retryOf: retryOf)
                reply(.success(await transition(deployment.id, .start, group: &group) ?? deployment))
            } catch {
                reply(.failure(error))
            }
        case .event(let id, let event, let reply):
            do {
                let deployment = try await apply(event, to: id, group: &group)
                reply?(.success(deployment))
            } catch {
                reply?(.failure(error))
            }
        case .restore(let application, let number, let actor, let reason, let reply):
            do {
                reply(.success(try await restore(application, to: number, by: actor, reason: reason, group: &group)))
            } catch {
                reply(.failure(error))
            }
        case .record(let application, let manifest, let note, let actor, let reply):
            do {
                reply(.success(try await record(application, manifest: manifest, note: note, by: actor)))
            } catch {
                reply(.failure(error))
            }
        case .tick:
            await tick(group: &group)
        }
    }

    /// Time passes for every active deployment: step, hook and bake deadlines, and rules that fire on
    /// time alone (periods without data that count as breaching).
    private func tick(group: inout DiscardingTaskGroup) async {
        let time = now()
        let due = watched.withLock { watched in
            watched.deployments.values.compactMap { tracked -> (DeploymentID, DeploymentEvent)? in
                let deployment = tracked.deployment
                if let gone = deployment.vanished(from: { store.function($0) }) { return (deployment.id, .aliasChanged(gone)) }
                if !tracked.failureQueued, deployment.status != .created, deployment.status != .preTraffic,
                    let report = tracked.failing(at: time)
                {
                    return (deployment.id, .healthFailed(report))
                }
                guard let deadline = deployment.nextDeadline(), deadline <= time else { return nil }
                return (deployment.id, .tick(evidence: tracked.judge.stepInvocations))
            }
        }
        for (id, event) in due { await transition(id, event, group: &group) }
    }

    /// `apply`, logging instead of throwing (for events nobody waits on).
    @discardableResult
    func transition(_ id: DeploymentID, _ event: DeploymentEvent, group: inout DiscardingTaskGroup) async -> Deployment? {
        do {
            return try await apply(event, to: id, group: &group)
        } catch {
            logger.error("deployment transition failed", metadata: ["deployment": "\(id)", "error": "\(error)"])
            return nil
        }
    }

    /// Runs one event through the state machine, persists the result with its alias change in one
    /// transaction, then carries out the other effects.
    func apply(_ event: DeploymentEvent, to id: DeploymentID, group: inout DiscardingTaskGroup) async throws -> Deployment {
        guard let before = watched.withLock({ $0.deployments[id]?.deployment }) else {
            guard let finished = try await store.deployment(id) else { throw DeploymentError.deploymentNotFound(id.rawValue) }
            // It ended while the request waited in the queue: a person's request is refused as it would
            // have been a moment later, so that of two racing decisions exactly one takes effect.
            var refused = finished
            _ = try refused.handle(event, at: now(), newExecutionID: { "" })
            return finished
        }
        var after = before
        let effects = try after.handle(event, at: now(), newExecutionID: { UUID().uuidString.lowercased() })
        if case .healthFailed = event { watched.withLock { $0.deployments[id]?.failureQueued = false } }
        guard after != before else { return before }
        do {
            try await persist(after, since: before, moving: AliasMove(after, effects))
        } catch let diverged as AliasDiverged {
            return try await fail(before, diverged.description)
        } catch let error as LambdaError where error.code == .resourceNotFound {
            return try await fail(before, "function \(before.function) was deleted")
        }
        log(after, previous: before)
        announce(after, since: before, effects: effects)
        for effect in effects {
            switch effect {
            case .prewarm(_, let count):
                let deployment = after
                group.addTask { await self.prewarm(deployment, count: count) }
            case .invokeHook(let execution):
                await invokeHook(execution, of: after)
            case .route, .promote, .revert:
                break
            }
        }
        return after
    }

    /// Ends a deployment as Failed without touching the alias (it is no longer the deployment's to move).
    private func fail(_ deployment: Deployment, _ reason: String) async throws -> Deployment {
        var failed = deployment
        _ = try failed.handle(.aliasChanged(reason), at: now(), newExecutionID: { "" })
        try await persist(failed, since: deployment, moving: nil)
        announce(failed, since: deployment)
        logger.warning("deployment failed", metadata: metadata(failed).merging(["reason": "\(reason)"]) { $1 })
        return failed
    }

    /// Persists a deployment (with its alias move) and updates what the invoke path watches.
    private func persist(_ deployment: Deployment, since previous: Deployment, moving move: AliasMove?) async throws {
        let scope = scope
        let audit = Self.auditEvents(deployment, since: previous)
        if let move {
            var changes: [FunctionName: @Sendable (inout LambdaFunction, ChangeContext) throws -> Void] = [:]
            for target in deployment.targets {
                changes[target.function] = { function, context in try move.apply(to: &function, target: target, scope: scope, context: context) }
            }
            try await store.save(deployment, scope: scope, audit: audit, changingEach: changes)
        } else {
            try await store.save(deployment, scope: scope, audit: audit)
        }
        watched.withLock { watched in
            guard deployment.isActive else {
                watched.deployments[deployment.id] = nil
                for target in deployment.targets {
                    let key = AliasKey(function: target.function, alias: target.alias)
                    if watched.byAlias[key] == deployment.id { watched.byAlias[key] = nil }
                }
                return
            }
            guard var tracked = watched.deployments[deployment.id] else { return }
            let previous = tracked.deployment
            if previous.stepIndex != deployment.stepIndex || previous.status != deployment.status { tracked.startStep() }
            tracked.deployment = deployment
            watched.deployments[deployment.id] = tracked
        }
    }

    /// One audit entry per history entry a transition added, with the deployment's repository and
    /// build, and the health figures behind a decision.
    static func auditEvents(_ deployment: Deployment, since previous: Deployment?) -> [AuditEvent] {
        var added = deployment.history[...]
        if let previous, let last = previous.history.last, let index = deployment.history.lastIndex(of: last) {
            added = deployment.history[(index + 1)...]
        }
        return added.map { entry in
            var details = ["message": entry.message, "strategy": deployment.strategy.name, "weight": "\(deployment.weight)",
                           "from": deployment.fromVersion.description, "to": deployment.toVersion.description]
            if let environment = deployment.gate?.environment { details["environment"] = environment }
            if let release = deployment.release {
                details["application"] = release.application
                details["release"] = "\(release.number)"
                details["functions"] = deployment.targets.map(\.description).joined(separator: ", ")
                details["from"] = nil
                details["to"] = nil
            }
            if let decision = deployment.approval?.decision, decision.at == entry.at, entry.event == "approved" || entry.status == .rolledBack {
                details["via"] = decision.via
                if let token = decision.tokenID { details["tokenId"] = token }
            }
            if let report = deployment.outcome?.report, entry == deployment.history.last {
                details["newVersion"] = "\(report.canary.invocations) invocations, \(report.canary.errors) errors"
                details["oldVersion"] = "\(report.baseline.invocations) invocations, \(report.baseline.errors) errors"
                if let finding = report.finding { details["finding"] = "\(finding.check): \(finding.detail)" }
            }
            let status = entry.event ?? entry.status.rawValue
            return AuditEvent(
                at: entry.at, actor: entry.by ?? "aviary", source: entry.source,
                action: "deployment." + status.prefix(1).lowercased() + status.dropFirst(),
                // A release's decision is one entry for the whole application (its functions in details).
                function: deployment.release == nil ? deployment.function : nil,
                alias: deployment.release == nil ? deployment.alias : nil, deployment: deployment.id,
                repository: deployment.metadata["repository"], build: deployment.metadata["build"], details: details)
        }
    }

    /// Starts watching an active deployment.
    func track(_ deployment: Deployment) {
        watched.withLock { watched in
            watched.deployments[deployment.id] = Tracked(deployment)
            for target in deployment.targets {
                watched.byAlias[AliasKey(function: target.function, alias: target.alias)] = deployment.id
            }
        }
    }

    /// Starts `count` environments of every target's new version (a release's at once), then reports.
    private func prewarm(_ deployment: Deployment, count: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for target in deployment.targets {
                guard let function = store.function(target.function),
                    let configuration = function.configuration(of: .published(target.toVersion))
                else { continue }
                group.addTask {
                    let ready = await self.runtime.prewarm(
                        function: target.function, version: .published(target.toVersion), configuration: configuration, count: count)
                    self.logger.info("pre-warmed \(ready) of \(count) environments of \(target.function)", metadata: self.metadata(deployment))
                }
            }
        }
        queue.yield(.event(deployment.id, .prewarmed, nil))
    }

    private func log(_ deployment: Deployment, previous: Deployment) {
        guard let entry = deployment.history.last, deployment.history.count != previous.history.count else { return }
        let level: Logger.Level = deployment.status == .rolledBack || deployment.status == .failed ? .warning : .info
        logger.log(level: level, "\(entry.message)", metadata: metadata(deployment))
    }

    func metadata(_ deployment: Deployment) -> Logger.Metadata {
        ["deployment": "\(deployment.id)", "function": "\(deployment.function)", "alias": "\(deployment.alias)"]
    }
}

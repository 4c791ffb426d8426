/// What happens to a deployment: requests from people, reports from hooks, time passing, and verdicts
/// of the health judge.
public enum DeploymentEvent: Sendable, Hashable {
    /// The engine takes the new deployment up.
    case start
    /// The new version's environments asked for pre-warming are ready (or could not start: traffic
    /// then meets cold starts, and the health checks judge it).
    case prewarmed
    /// A hook reported its result.
    case hookReported(executionID: String, succeeded: Bool)
    /// Time passed; `evidence` is the number of invocations the new version served in the current step.
    case tick(evidence: Int)
    /// A health check failed.
    case healthFailed(HealthReport)
    /// Skip the remaining steps (or the rest of the bake).
    case promote(by: String?, reason: String?)
    case pause(by: String?, reason: String?)
    case resume(by: String?, reason: String?)
    /// Put the alias back on the old version now.
    case rollback(by: String?, reason: String?, report: HealthReport?)
    /// A person (or the policy) lets a deployment waiting at its gate go on.
    case approve(Approver, reason: String?)
    /// A person turns down a deployment waiting at its gate (its roll-back link): rolled back now, and
    /// recorded as the gate's decision.
    case reject(Approver, reason: String?)
    /// The server restarted with this deployment in flight.
    case recover
    /// The alias could not be changed as intended (deleted, or changed by someone else).
    case aliasChanged(String)
}

/// What the engine must do after a transition. Alias changes are persisted in the same transaction as
/// the deployment's new state; the others are carried out after it.
public enum DeploymentEffect: Sendable, Hashable {
    /// Start environments of a version, then report `prewarmed`.
    case prewarm(VersionNumber, count: Int)
    /// The alias: primary `fromVersion`, `toVersion` at `weight`.
    case route(Weight)
    /// The alias: primary `toVersion`, no routing.
    case promote
    /// The alias: primary `fromVersion`, no routing.
    case revert
    /// Invoke a hook function (asynchronously) with CodeDeploy's payload.
    case invokeHook(HookExecution)
}

extension Deployment {
    /// Applies `event` at `now` and returns the effects to carry out, in order.
    ///
    /// - Parameter newExecutionID: mints hook execution ids (Core has no randomness of its own).
    /// - Throws: when a person asks for something the deployment cannot do in its state.
    public mutating func handle(
        _ event: DeploymentEvent, at now: Timestamp, newExecutionID: () -> String
    ) throws(DeploymentError) -> [DeploymentEffect] {
        guard isActive else {
            switch event {
            case .tick, .healthFailed, .hookReported, .recover, .aliasChanged, .start, .prewarmed: return []
            case .promote, .pause, .resume, .rollback, .approve, .reject: throw .finished(id, status)
            }
        }
        switch event {
        case .start where status == .created, .recover where status == .created:
            guard prewarm > 0 else { return beforeTraffic(at: now, ids: newExecutionID) }
            note("pre-warming \(prewarm) environment\(prewarm == 1 ? "" : "s") of version \(toVersion)", at: now)
            return [.prewarm(toVersion, count: prewarm)]

        case .prewarmed where status == .created:
            return beforeTraffic(at: now, ids: newExecutionID)

        case .start, .prewarmed:
            return []

        case .recover:
            note("server restarted; resuming \(status.rawValue)", at: now)
            switch status {
            case .shifting: return [.route(Weight(weight)!)]
            case .awaitingApproval where weight > 0: return [.route(Weight(weight)!)]
            case .postTraffic, .baking: return [.promote]
            default: return []
            }

        case .hookReported(let executionID, let succeeded):
            guard var running = hook, running.id == executionID, running.state == .inProgress else { return [] }
            running.state = succeeded ? .succeeded : .failed
            hook = running
            guard succeeded else {
                return rollBack(.hookFailed, "the \(running.kind.rawValue) hook \(running.target) reported Failed", by: nil, at: now)
            }
            note("\(running.kind.rawValue) hook \(running.target) succeeded", at: now)
            return running.kind == .preTraffic ? beginTraffic(at: now, ids: newExecutionID) : afterPromotion(at: now)

        case .tick(let evidence):
            return tick(evidence: evidence, at: now, ids: newExecutionID)

        case .healthFailed(let report):
            guard status != .created, status != .preTraffic else { return [] }
            let finding = report.finding.map { "\($0.check): \($0.detail)" } ?? "a health check failed"
            return rollBack(.healthCheck, finding, by: nil, at: now, report: report)

        case .promote(let by, let reason):
            switch status {
            case .shifting:
                note("promoted early" + Self.because(reason), at: now, by: by)
                return promote(at: now, by: by, ids: newExecutionID)
            case .baking:
                note("bake ended early" + Self.because(reason), at: now, by: by)
                return succeed(at: now, by: by)
            case .awaitingApproval:
                throw .notAllowed("deployment \(id) is awaiting approval; approve it (aviary approve \(id)) instead of promoting past the gate")
            default:
                throw .notAllowed("deployment \(id) cannot be promoted while \(status.rawValue)")
            }

        case .pause(let by, let reason):
            guard pausedAt == nil else { throw .notAllowed("deployment \(id) is already paused") }
            pausedAt = now
            note("paused" + Self.because(reason), at: now, by: by)
            return []

        case .resume(let by, let reason):
            guard let pausedAt else { throw .notAllowed("deployment \(id) is not paused") }
            // The step (or bake) keeps the time it had left when it was paused; one that began during the
            // pause has been paused only since it began.
            let pausedSince = max(pausedAt, phaseStartedAt)
            phaseStartedAt = Timestamp(
                millisecondsSince1970: phaseStartedAt.millisecondsSince1970 + now.millisecondsSince1970 - pausedSince.millisecondsSince1970)
            self.pausedAt = nil
            note("resumed" + Self.because(reason), at: now, by: by)
            guard trafficHeld else { return [] }
            trafficHeld = false
            return beginTraffic(at: now, ids: newExecutionID)

        case .rollback(let by, let reason, let report):
            return rollBack(.manual, "rolled back by request" + Self.because(reason), by: by, at: now, report: report)

        case .approve(let approver, let reason):
            guard status == .awaitingApproval, let gate, let approval, approval.decision == nil else {
                throw .notAllowed("deployment \(id) is not awaiting approval (it is \(status.rawValue))")
            }
            if let tokenID = approver.tokenID, tokenID != approval.approveTokenID {
                throw .notAllowed("this link does not approve deployment \(id)")
            }
            guard gate.allows(approver.name) else { throw .forbidden("\(approver.name ?? "an anonymous approver") may not approve deployment \(id)") }
            return approve(approver, reason: reason, at: now, ids: newExecutionID)

        case .reject(let approver, let reason):
            // Gate-scoped like the approve link, so that of the two links exactly one ever acts.
            guard status == .awaitingApproval, let gate, let approval, approval.decision == nil else {
                throw .notAllowed("deployment \(id) is not awaiting approval (it is \(status.rawValue)); roll it back with aviary rollback \(id)")
            }
            if let tokenID = approver.tokenID, tokenID != approval.rollbackTokenID {
                throw .notAllowed("this link does not roll back deployment \(id)")
            }
            guard gate.allows(approver.name) else {
                throw .forbidden("\(approver.name ?? "an anonymous approver") may not roll back deployment \(id)")
            }
            decide(.rolledBack, approver, at: now)
            return rollBack(
                .manual, "rolled back by \(approver.name ?? "request") via \(approver.via)" + Self.because(reason), by: approver.name,
                at: now, source: approver.source)

        case .aliasChanged(let message):
            status = .failed
            pausedAt = nil
            outcome = Outcome(cause: .aliasChanged, message: message, at: now, by: nil, report: nil)
            note("failed: \(message)", at: now)
            return []
        }
    }

    /// When the deployment next needs a tick without anything else happening; nil when only events move it.
    public func nextDeadline() -> Timestamp? {
        switch status {
        case .awaitingApproval:
            return approval?.decision == nil ? approval?.expiresAt : nil
        case .preTraffic, .postTraffic:
            return hook.map { Timestamp(millisecondsSince1970: $0.startedAt.millisecondsSince1970 + hooks.timeoutMilliseconds) }
        case .shifting where pausedAt == nil:
            return currentStep.map { Timestamp(millisecondsSince1970: phaseStartedAt.millisecondsSince1970 + $0.milliseconds) }
        case .baking where pausedAt == nil:
            return Timestamp(millisecondsSince1970: phaseStartedAt.millisecondsSince1970 + bakeMilliseconds)
        default:
            return nil
        }
    }

    private mutating func tick(evidence: Int, at now: Timestamp, ids: () -> String) -> [DeploymentEffect] {
        switch status {
        case .preTraffic, .postTraffic:
            guard let running = hook, running.state == .inProgress,
                now.millisecondsSince1970 - running.startedAt.millisecondsSince1970 >= hooks.timeoutMilliseconds
            else { return [] }
            return rollBack(
                .hookTimedOut,
                "the \(running.kind.rawValue) hook \(running.target) did not report within \(DurationText.format(milliseconds: hooks.timeoutMilliseconds))",
                by: nil, at: now)
        case .shifting:
            guard pausedAt == nil, let deadline = nextDeadline(), now >= deadline else { return [] }
            if evidence >= health.minimumInvocations { return advance(at: now, ids: ids) }
            switch health.noData {
            case .wait:
                if !awaitingEvidence {
                    awaitingEvidence = true
                    note("step \(stepIndex + 1) waits for evidence: \(evidence) of \(health.minimumInvocations) invocations", at: now)
                }
                return []
            case .fail:
                return rollBack(
                    .noEvidence,
                    "step \(stepIndex + 1) ended with \(evidence) of the \(health.minimumInvocations) invocations it needs",
                    by: nil, at: now)
            case .pass:
                note("step \(stepIndex + 1) passed without evidence (\(evidence) of \(health.minimumInvocations) invocations)", at: now)
                return advance(at: now, ids: ids)
            }
        case .baking:
            guard pausedAt == nil, let deadline = nextDeadline(), now >= deadline else { return [] }
            return succeed(at: now, by: nil)
        case .awaitingApproval:
            // The deadline is absolute (pausing does not extend it): the links carry it, signed.
            guard let gate, let deadline = nextDeadline(), now >= deadline else { return [] }
            let waited = DurationText.format(milliseconds: gate.timeoutMilliseconds)
            switch gate.onTimeout {
            case .rollback:
                decide(.rolledBack, Approver(name: nil, via: "timeout"), at: now)
                return rollBack(.approvalTimedOut, "no approval within \(waited)", by: nil, at: now)
            case .approve:
                return approve(Approver(name: nil, via: "timeout"), reason: "no decision within \(waited); the policy approves", at: now, ids: ids)
            }
        default:
            return []
        }
    }

    /// The pre-traffic hook if there is one, else the first step.
    private mutating func beforeTraffic(at now: Timestamp, ids: () -> String) -> [DeploymentEffect] {
        guard let target = hooks.preTraffic else { return beginTraffic(at: now, ids: ids) }
        return [startHook(.preTraffic, target, at: now, id: ids())]
    }

    private mutating func beginTraffic(at now: Timestamp, ids: () -> String) -> [DeploymentEffect] {
        if pausedAt != nil {
            // Paused means traffic stays where it is: the next shift waits for resume.
            if status != .awaitingApproval { status = .preTraffic }
            trafficHeld = true
            note("ready to shift traffic; held while paused", at: now)
            return []
        }
        if let gate {
            guard let approval else { return enterGate(gate, at: now, ids: ids) }
            if approval.decision?.kind == .approved, gate.afterApproval == .promote { return promote(at: now, ids: ids) }
        }
        guard let first = strategy.steps.first else { return promote(at: now, ids: ids) }
        status = .shifting
        stepIndex = 0
        return enterStep(first, at: now)
    }

    /// Holds the gate's canary weight and mints its links; a pre-approved gate opens at once, through
    /// the same decision a person's approval takes.
    private mutating func enterGate(_ gate: ApprovalGate, at now: Timestamp, ids: () -> String) -> [DeploymentEffect] {
        approval = ApprovalState(
            requestedAt: now, expiresAt: Timestamp(millisecondsSince1970: now.millisecondsSince1970 + gate.timeoutMilliseconds),
            approveTokenID: ids(), rollbackTokenID: ids(), decision: nil)
        status = .awaitingApproval
        phaseStartedAt = now
        awaitingEvidence = false
        let environment = gate.environment.map { "environment \($0)" } ?? "the deployment's policy"
        if gate.preApproved {
            note("approval gate reached; \(environment) pre-approves", at: now, event: "awaitingApproval")
            return approve(Approver(name: nil, via: "policy"), reason: "\(environment) is pre-approved", at: now, ids: ids)
        }
        weight = gate.canaryWeight.value
        note(
            "awaiting approval with \(Strategy.percentText(weight * 100)) of traffic on \(newSide) "
                + "(\(environment); \(gate.onTimeout == .rollback ? "rolls back" : "approves") after \(DurationText.format(milliseconds: gate.timeoutMilliseconds)))",
            at: now)
        return weight > 0 ? [.route(gate.canaryWeight)] : []
    }

    private mutating func approve(_ approver: Approver, reason: String?, at now: Timestamp, ids: () -> String) -> [DeploymentEffect] {
        decide(.approved, approver, at: now)
        let who = approver.name.map { "by \($0)" } ?? (approver.via == "policy" ? "automatically" : "by \(approver.via)")
        note(
            "approved \(who)\(approver.via == "link" ? " via link" : "")" + Self.because(reason), at: now, by: approver.name,
            event: "approved", source: approver.source)
        return beginTraffic(at: now, ids: ids)
    }

    private mutating func decide(_ kind: ApprovalState.Decision.Kind, _ approver: Approver, at now: Timestamp) {
        guard approval?.decision == nil else { return }
        approval?.decision = ApprovalState.Decision(
            kind: kind, at: now, by: approver.name, via: approver.via, tokenID: approver.tokenID, source: approver.source)
    }

    private mutating func advance(at now: Timestamp, ids: () -> String) -> [DeploymentEffect] {
        guard stepIndex + 1 < strategy.steps.count else { return promote(at: now, ids: ids) }
        stepIndex += 1
        return enterStep(strategy.steps[stepIndex], at: now)
    }

    private mutating func enterStep(_ step: Strategy.Step, at now: Timestamp) -> [DeploymentEffect] {
        weight = step.weight.value
        phaseStartedAt = now
        awaitingEvidence = false
        note(
            "step \(stepIndex + 1)/\(strategy.steps.count): \(Strategy.percentText(weight * 100)) to \(newSide) "
                + "for \(DurationText.format(milliseconds: step.milliseconds))",
            at: now)
        return [.route(step.weight)]
    }

    private mutating func promote(at now: Timestamp, by: String? = nil, ids: () -> String) -> [DeploymentEffect] {
        stepIndex = strategy.steps.count
        weight = 1
        awaitingEvidence = false
        status = hooks.postTraffic != nil ? .postTraffic : bakeMilliseconds > 0 ? .baking : .succeeded
        note(release == nil ? "promoted: \(alias) → \(toVersion)" : "promoted: \(newSide)", at: now)
        if let target = hooks.postTraffic {
            return [.promote, startHook(.postTraffic, target, at: now, id: ids())]
        }
        return [.promote] + afterPromotion(at: now, by: by)
    }

    private mutating func afterPromotion(at now: Timestamp, by: String? = nil) -> [DeploymentEffect] {
        guard bakeMilliseconds > 0 else { return succeed(at: now, by: by) }
        status = .baking
        phaseStartedAt = now
        note("baking for \(DurationText.format(milliseconds: bakeMilliseconds))", at: now)
        return []
    }

    private mutating func succeed(at now: Timestamp, by: String?) -> [DeploymentEffect] {
        status = .succeeded
        pausedAt = nil
        let message = release.map { "release \($0.number) of \($0.application) is live" } ?? "\(alias) now points to version \(toVersion)"
        outcome = Outcome(cause: .promoted, message: message, at: now, by: by, report: nil)
        note("succeeded", at: now, by: by)
        return []
    }

    private mutating func startHook(_ kind: HookExecution.Kind, _ target: HookTarget, at now: Timestamp, id: String) -> DeploymentEffect {
        let execution = HookExecution(id: id, kind: kind, target: target, startedAt: now, state: .inProgress)
        if let previous = hook { earlierHooks.append(previous) }
        hook = execution
        status = kind == .preTraffic ? .preTraffic : .postTraffic
        phaseStartedAt = now
        note("\(kind.rawValue) hook \(target) invoked", at: now)
        return .invokeHook(execution)
    }

    private mutating func rollBack(
        _ cause: Outcome.Cause, _ message: String, by: String?, at now: Timestamp, report: HealthReport? = nil,
        source: String? = nil
    ) -> [DeploymentEffect] {
        status = .rolledBack
        weight = 0
        pausedAt = nil
        if var running = hook, running.state == .inProgress {
            running.state = .failed
            hook = running
        }
        outcome = Outcome(cause: cause, message: message, at: now, by: by, report: report)
        note("rolled back to \(oldSide): \(message)", at: now, by: by, source: source)
        return [.revert]
    }

    /// Records a change in the history; every transition that changes anything notes it.
    private mutating func note(
        _ message: String, at now: Timestamp, by: String? = nil, event: String? = nil, source: String? = nil
    ) {
        updatedAt = now
        history.append(HistoryEntry(at: now, status: status, message: message, by: by, event: event, source: source))
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
    }

    static let historyLimit = 500

    static func because(_ reason: String?) -> String {
        guard let reason, !reason.isEmpty else { return "" }
        return ": \(reason)"
    }
}

@testable import AviaryCore
import Foundation
import Synchronization
import Testing

/// Mints hook execution ids exec-1, exec-2, … in order, as the engine's UUIDs would be.
final class ExecutionIDs: Sendable {
    private let counter = Mutex(0)

    func next() -> String {
        counter.withLock { value in
            value += 1
            return "exec-\(value)"
        }
    }
}

@Suite struct DeploymentTransitionTests {
    static let t0 = Timestamp(millisecondsSince1970: 1_700_000_000_000)
    static let second: Int64 = 1000
    static let minute: Int64 = 60_000

    let preHook = HookTarget(function: FunctionName(trusted: "orders-pre"))
    let postHook = HookTarget(function: FunctionName(trusted: "orders-post"), qualifier: "live")
    let ids = ExecutionIDs()
    let report = HealthReport(
        canary: VersionHealth(), baseline: VersionHealth(), comparisonEvidence: nil, stepInvocations: 0,
        finding: HealthFinding(check: "errors>=1@1m", detail: "1 of 1 datapoints breached errors ≥ 1 (newest first: 1.0)"))

    /// `milliseconds` after t0.
    func time(_ milliseconds: Int64) -> Timestamp {
        Timestamp(millisecondsSince1970: Self.t0.millisecondsSince1970 + milliseconds)
    }

    /// Milliseconds from t0 to `timestamp`.
    func offset(_ timestamp: Timestamp?) -> Int64? {
        timestamp.map { $0.millisecondsSince1970 - Self.t0.millisecondsSince1970 }
    }

    func makeDeployment(
        strategy: String = "Canary10Percent5Minutes", health: HealthPolicy = .standard, hooks: Hooks = Hooks(),
        prewarm: Int = 0, bake: Int64 = 0, createdBy: String? = nil
    ) throws -> Deployment {
        Deployment(
            id: DeploymentID("d-ABCDEFGHI")!, function: try FunctionName(validating: "orders"),
            alias: try AliasName(validating: "live"), fromVersion: VersionNumber(1), toVersion: VersionNumber(2),
            strategy: try Strategy.parse(strategy), health: health, hooks: hooks, prewarm: prewarm, bakeMilliseconds: bake,
            createdAt: Self.t0, createdBy: createdBy)
    }

    /// Applies `event` `milliseconds` after t0, minting execution ids in order.
    @discardableResult
    func send(_ event: DeploymentEvent, to deployment: inout Deployment, at milliseconds: Int64) throws(DeploymentError)
        -> [DeploymentEffect]
    {
        try deployment.handle(event, at: time(milliseconds), newExecutionID: ids.next)
    }

    func hookRun(_ id: String, _ kind: HookExecution.Kind, at milliseconds: Int64) -> HookExecution {
        HookExecution(
            id: id, kind: kind, target: kind == .preTraffic ? preHook : postHook, startedAt: time(milliseconds),
            state: .inProgress)
    }

    func route(_ weight: Double) -> DeploymentEffect { .route(Weight(weight)!) }

    // MARK: Every status × every event

    enum Phase: String, CaseIterable, Sendable {
        case created, preTraffic, shifting, postTraffic, baking, succeeded, rolledBack, failed

        var status: DeploymentStatus {
            switch self {
            case .created: .created
            case .preTraffic: .preTraffic
            case .shifting: .shifting
            case .postTraffic: .postTraffic
            case .baking: .baking
            case .succeeded: .succeeded
            case .rolledBack: .rolledBack
            case .failed: .failed
            }
        }
    }

    enum Stimulus: String, CaseIterable, Sendable {
        case start, prewarmed
        case hookSucceeded, hookFailed, otherHookSucceeded, otherHookFailed
        case tickBeforeDeadline, tickAtDeadlineWithEvidence, tickAtDeadlineWithoutEvidence
        case healthFailed, promote, pause, resume, rollback, recover, aliasChanged
    }

    enum Expected: Equatable {
        /// Nothing changes and nothing is to be done.
        case ignored
        /// The deployment changes (maybe only its history or pause) to `status`, with these effects.
        case moves(DeploymentStatus, [DeploymentEffect])
        /// The request throws this code and changes nothing.
        case refused(code: String)
    }

    /// The full configuration: canary 10% for 5 minutes, pre- and post-traffic hooks (5 minute timeout),
    /// a 10 minute bake and two prewarmed environments, brought to `phase`. Returns it with the time it got there.
    func reach(_ phase: Phase) throws -> (Deployment, at: Int64) {
        var deployment = try makeDeployment(
            hooks: Hooks(preTraffic: preHook, postTraffic: postHook), prewarm: 2, bake: 10 * Self.minute)
        var now: Int64 = 0
        func go(_ event: DeploymentEvent, at milliseconds: Int64, expecting status: DeploymentStatus) throws {
            now = milliseconds
            try send(event, to: &deployment, at: milliseconds)
            try #require(deployment.status == status)
        }
        if phase == .created { return (deployment, 0) }
        try go(.start, at: 0, expecting: .created)
        try go(.prewarmed, at: 0, expecting: .preTraffic)  // exec-1, times out at 5m
        if phase == .preTraffic { return (deployment, now) }
        try go(.hookReported(executionID: "exec-1", succeeded: true), at: Self.second, expecting: .shifting)  // ends at 5m1s
        switch phase {
        case .shifting: return (deployment, now)
        case .rolledBack:
            try go(.rollback(by: "setup", reason: nil, report: nil), at: 2 * Self.second, expecting: .rolledBack)
            return (deployment, now)
        case .failed:
            try go(.aliasChanged("alias live was deleted"), at: 2 * Self.second, expecting: .failed)
            return (deployment, now)
        default: break
        }
        try go(.tick(evidence: 10), at: Self.second + 5 * Self.minute, expecting: .postTraffic)  // exec-2, times out at 10m1s
        if phase == .postTraffic { return (deployment, now) }
        try go(.hookReported(executionID: "exec-2", succeeded: true), at: 2 * Self.second + 5 * Self.minute, expecting: .baking)
        if phase == .baking { return (deployment, now) }  // the bake ends at 15m2s
        try go(.tick(evidence: 0), at: 2 * Self.second + 15 * Self.minute, expecting: .succeeded)
        return (deployment, now)
    }

    /// What `stimulus` does to the full configuration in `phase`, when applied at `at`.
    func expected(_ phase: Phase, _ stimulus: Stimulus, at: Int64) -> Expected {
        let newPreHook = DeploymentEffect.invokeHook(hookRun("exec-new", .preTraffic, at: at))
        let newPostHook = DeploymentEffect.invokeHook(hookRun("exec-new", .postTraffic, at: at))
        switch phase {
        case .created:
            switch stimulus {
            case .start, .recover: return .moves(.created, [.prewarm(VersionNumber(2), count: 2)])
            case .prewarmed: return .moves(.preTraffic, [newPreHook])
            case .hookSucceeded, .hookFailed, .otherHookSucceeded, .otherHookFailed: return .ignored
            case .tickBeforeDeadline, .tickAtDeadlineWithEvidence, .tickAtDeadlineWithoutEvidence: return .ignored
            case .healthFailed: return .ignored
            case .pause: return .moves(.created, [])
            case .promote, .resume: return .refused(code: "ActionNotAllowed")
            case .rollback: return .moves(.rolledBack, [.revert])
            case .aliasChanged: return .moves(.failed, [])
            }
        case .preTraffic:
            switch stimulus {
            case .start, .prewarmed: return .ignored
            case .recover: return .moves(.preTraffic, [])  // noted, nothing to redo
            case .hookSucceeded: return .moves(.shifting, [route(0.1)])
            case .hookFailed: return .moves(.rolledBack, [.revert])
            case .otherHookSucceeded, .otherHookFailed: return .ignored
            case .tickBeforeDeadline: return .ignored
            case .tickAtDeadlineWithEvidence, .tickAtDeadlineWithoutEvidence: return .moves(.rolledBack, [.revert])
            case .healthFailed: return .ignored  // no traffic yet
            case .pause: return .moves(.preTraffic, [])
            case .promote, .resume: return .refused(code: "ActionNotAllowed")
            case .rollback: return .moves(.rolledBack, [.revert])
            case .aliasChanged: return .moves(.failed, [])
            }
        case .shifting:
            switch stimulus {
            case .start, .prewarmed: return .ignored
            case .recover: return .moves(.shifting, [route(0.1)])
            case .hookSucceeded, .hookFailed: return .ignored  // the pre-traffic hook already reported
            case .otherHookSucceeded, .otherHookFailed: return .ignored
            case .tickBeforeDeadline: return .ignored
            case .tickAtDeadlineWithoutEvidence: return .moves(.shifting, [])  // waits for evidence
            case .tickAtDeadlineWithEvidence, .promote: return .moves(.postTraffic, [.promote, newPostHook])
            case .healthFailed: return .moves(.rolledBack, [.revert])
            case .pause: return .moves(.shifting, [])
            case .resume: return .refused(code: "ActionNotAllowed")
            case .rollback: return .moves(.rolledBack, [.revert])
            case .aliasChanged: return .moves(.failed, [])
            }
        case .postTraffic:
            switch stimulus {
            case .start, .prewarmed: return .ignored
            case .recover: return .moves(.postTraffic, [.promote])
            case .hookSucceeded: return .moves(.baking, [])
            case .hookFailed: return .moves(.rolledBack, [.revert])
            case .otherHookSucceeded, .otherHookFailed: return .ignored
            case .tickBeforeDeadline: return .ignored
            case .tickAtDeadlineWithEvidence, .tickAtDeadlineWithoutEvidence: return .moves(.rolledBack, [.revert])
            case .healthFailed: return .moves(.rolledBack, [.revert])
            case .pause: return .moves(.postTraffic, [])
            case .promote, .resume: return .refused(code: "ActionNotAllowed")
            case .rollback: return .moves(.rolledBack, [.revert])
            case .aliasChanged: return .moves(.failed, [])
            }
        case .baking:
            switch stimulus {
            case .start, .prewarmed: return .ignored
            case .recover: return .moves(.baking, [.promote])
            case .hookSucceeded, .hookFailed, .otherHookSucceeded, .otherHookFailed: return .ignored
            case .tickBeforeDeadline: return .ignored
            case .tickAtDeadlineWithEvidence, .tickAtDeadlineWithoutEvidence: return .moves(.succeeded, [])
            case .healthFailed: return .moves(.rolledBack, [.revert])
            case .promote: return .moves(.succeeded, [])
            case .pause: return .moves(.baking, [])
            case .resume: return .refused(code: "ActionNotAllowed")
            case .rollback: return .moves(.rolledBack, [.revert])
            case .aliasChanged: return .moves(.failed, [])
            }
        case .succeeded, .rolledBack, .failed:
            switch stimulus {
            case .promote, .pause, .resume, .rollback: return .refused(code: "DeploymentFinished")
            case .start, .prewarmed, .hookSucceeded, .hookFailed, .otherHookSucceeded, .otherHookFailed, .tickBeforeDeadline,
                .tickAtDeadlineWithEvidence, .tickAtDeadlineWithoutEvidence, .healthFailed, .recover, .aliasChanged:
                return .ignored
            }
        }
    }

    /// The event `stimulus` stands for and when it is sent, for a deployment that reached its phase at
    /// `reachedAt` and next needs a tick at `deadline`.
    func event(_ stimulus: Stimulus, reachedAt: Int64, deadline: Int64, matchingHook: String) -> (at: Int64, DeploymentEvent) {
        let soon = reachedAt + Self.second
        switch stimulus {
        case .start: return (soon, .start)
        case .prewarmed: return (soon, .prewarmed)
        case .hookSucceeded: return (soon, .hookReported(executionID: matchingHook, succeeded: true))
        case .hookFailed: return (soon, .hookReported(executionID: matchingHook, succeeded: false))
        case .otherHookSucceeded: return (soon, .hookReported(executionID: "exec-other", succeeded: true))
        case .otherHookFailed: return (soon, .hookReported(executionID: "exec-other", succeeded: false))
        case .tickBeforeDeadline: return (deadline - 1, .tick(evidence: 100))
        case .tickAtDeadlineWithEvidence: return (deadline, .tick(evidence: 10))
        case .tickAtDeadlineWithoutEvidence: return (deadline, .tick(evidence: 9))
        case .healthFailed: return (soon, .healthFailed(report))
        case .promote: return (soon, .promote(by: "tester", reason: nil))
        case .pause: return (soon, .pause(by: "tester", reason: nil))
        case .resume: return (soon, .resume(by: "tester", reason: nil))
        case .rollback: return (soon, .rollback(by: "tester", reason: nil, report: nil))
        case .recover: return (soon, .recover)
        case .aliasChanged: return (soon, .aliasChanged("alias live now points to version 7"))
        }
    }

    @Test(arguments: Phase.allCases, Stimulus.allCases)
    func eachEventInEachStatusMovesAndActsAsSpecified(phase: Phase, stimulus: Stimulus) throws {
        let (before, reachedAt) = try reach(phase)
        let (at, event) = event(
            stimulus, reachedAt: reachedAt, deadline: offset(before.nextDeadline()) ?? reachedAt + 60 * Self.minute,
            matchingHook: before.hook?.id ?? "exec-1")

        var after = before
        let outcome: Expected
        do {
            let effects = try after.handle(event, at: time(at), newExecutionID: { "exec-new" })
            outcome = effects.isEmpty && after == before ? .ignored : .moves(after.status, effects)
        } catch {
            outcome = .refused(code: error.code)
            #expect(after == before, "a refused request changes nothing")
        }
        #expect(outcome == expected(phase, stimulus, at: at))
        if case .moves = outcome {
            #expect(after.updatedAt == time(at), "a change is stamped with its time")
            #expect(after.history.last?.at == time(at), "and noted in the history")
        }
    }

    /// The engine throws the changed copy away, but the state machine promises a refusal changes nothing.
    @Test func aRefusedRequestLeavesTheDeploymentUntouched() throws {
        var deployment = try makeDeployment()
        try send(.start, to: &deployment, at: 0)
        let before = deployment
        #expect(throws: DeploymentError.self) { try send(.resume(by: "alice", reason: nil), to: &deployment, at: Self.minute) }
        #expect(deployment.updatedAt == before.updatedAt)
        #expect(deployment == before)
    }

    // MARK: Whole runs

    @Test func aCanaryWithHooksAndABakeRunsToSuccess() throws {
        var deployment = try makeDeployment(hooks: Hooks(preTraffic: preHook, postTraffic: postHook), prewarm: 1, bake: 10 * Self.minute)
        var effects: [DeploymentEffect] = []
        var statuses: [DeploymentStatus] = [deployment.status]
        func step(_ event: DeploymentEvent, at milliseconds: Int64) throws {
            effects += try send(event, to: &deployment, at: milliseconds)
            statuses.append(deployment.status)
        }
        try step(.start, at: 0)
        try step(.prewarmed, at: 0)
        try step(.hookReported(executionID: "exec-1", succeeded: true), at: 20 * Self.second)
        try step(.tick(evidence: 10), at: 20 * Self.second + 5 * Self.minute)
        try step(.hookReported(executionID: "exec-2", succeeded: true), at: 40 * Self.second + 5 * Self.minute)
        try step(.tick(evidence: 0), at: 40 * Self.second + 15 * Self.minute)

        #expect(effects == [
            .prewarm(VersionNumber(2), count: 1),
            .invokeHook(hookRun("exec-1", .preTraffic, at: 0)),
            route(0.1),
            .promote,
            .invokeHook(hookRun("exec-2", .postTraffic, at: 20 * Self.second + 5 * Self.minute)),
        ])
        #expect(statuses == [.created, .created, .preTraffic, .shifting, .postTraffic, .baking, .succeeded])
        #expect(deployment.outcome?.cause == .promoted)
        #expect(deployment.outcome?.message == "live now points to version 2")
        #expect(deployment.outcome?.at == time(40 * Self.second + 15 * Self.minute))
        #expect(deployment.weight == 1)
        #expect(deployment.stepIndex == 1)
        #expect(deployment.hook?.id == "exec-2" && deployment.hook?.state == .succeeded)
        #expect(deployment.nextDeadline() == nil)
        #expect(deployment.history.map(\.message) == [
            "created: live 1 → 2 by Canary10Percent5Minutes",
            "pre-warming 1 environment of version 2",
            "BeforeAllowTraffic hook orders-pre invoked",
            "BeforeAllowTraffic hook orders-pre succeeded",
            "step 1/1: 10% to version 2 for 5m",
            "promoted: live → 2",
            "AfterAllowTraffic hook orders-post:live invoked",
            "AfterAllowTraffic hook orders-post:live succeeded",
            "baking for 10m",
            "succeeded",
        ])
        #expect(deployment.history.allSatisfy { $0.by == nil }, "nobody acted by hand")
    }

    @Test func aLinearRunRoutesEachWeightInOrderThenPromotes() throws {
        var deployment = try makeDeployment(strategy: "Linear10PercentEvery1Minute", prewarm: 0)
        var effects = try send(.start, to: &deployment, at: 0)
        for minute in Int64(1)...9 {
            #expect(deployment.currentStep?.weight == Weight(Double(minute) / 10))
            #expect(offset(deployment.nextDeadline()) == minute * Self.minute)
            #expect(try send(.tick(evidence: 50), to: &deployment, at: minute * Self.minute - 1) == [], "not yet")
            effects += try send(.tick(evidence: 50), to: &deployment, at: minute * Self.minute)
        }
        #expect(effects == (1...9).map { route(Double($0) / 10) } + [.promote])
        #expect(deployment.status == .succeeded)
        #expect(deployment.currentStep == nil)
    }

    @Test func allAtOnceWithoutHooksPromotesAtStart() throws {
        var deployment = try makeDeployment(strategy: "AllAtOnce")
        #expect(try send(.start, to: &deployment, at: 0) == [.promote])
        #expect(deployment.status == .succeeded)
        #expect(deployment.weight == 1)
    }

    @Test func allAtOnceWithPrewarmPromotesOnceWarm() throws {
        var deployment = try makeDeployment(strategy: "AllAtOnce", prewarm: 2)
        #expect(try send(.start, to: &deployment, at: 0) == [.prewarm(VersionNumber(2), count: 2)])
        #expect(deployment.status == .created)
        #expect(try send(.prewarmed, to: &deployment, at: 3 * Self.second) == [.promote])
        #expect(deployment.status == .succeeded)
    }

    @Test func allAtOncePromotesOnceThePreTrafficHookSucceeds() throws {
        var deployment = try makeDeployment(strategy: "all-at-once", hooks: Hooks(preTraffic: preHook, postTraffic: postHook), prewarm: 0)
        #expect(try send(.start, to: &deployment, at: 0) == [.invokeHook(hookRun("exec-1", .preTraffic, at: 0))])
        #expect(try send(.hookReported(executionID: "exec-1", succeeded: true), to: &deployment, at: Self.second) == [
            .promote, .invokeHook(hookRun("exec-2", .postTraffic, at: Self.second)),
        ])
        #expect(deployment.status == .postTraffic)
    }

    @Test func withoutPrewarmTheFirstEffectIsTheFirstRoute() throws {
        var deployment = try makeDeployment(prewarm: 0)
        #expect(try send(.start, to: &deployment, at: 0) == [route(0.1)])
        #expect(deployment.status == .shifting)
    }

    @Test func trafficWaitsUntilTheNewVersionIsWarm() throws {
        var deployment = try makeDeployment(prewarm: 3)
        #expect(try send(.start, to: &deployment, at: 0) == [.prewarm(VersionNumber(2), count: 3)])
        #expect(deployment.status == .created && deployment.weight == 0)
        #expect(deployment.history.last?.message == "pre-warming 3 environments of version 2")
        #expect(deployment.nextDeadline() == nil, "the engine reports when the environments are up")
        #expect(try send(.tick(evidence: 0), to: &deployment, at: 10 * Self.minute) == [])
        #expect(try send(.prewarmed, to: &deployment, at: 10 * Self.minute) == [route(0.1)])
        #expect(deployment.status == .shifting)
        #expect(offset(deployment.nextDeadline()) == 15 * Self.minute, "the first step starts when traffic does")
        let before = deployment
        #expect(try send(.prewarmed, to: &deployment, at: 11 * Self.minute) == [])
        #expect(deployment == before, "a second report changes nothing")
    }

    @Test func thePreTrafficHookRunsOnceTheNewVersionIsWarm() throws {
        var deployment = try makeDeployment(hooks: Hooks(preTraffic: preHook), prewarm: 1)
        #expect(try send(.start, to: &deployment, at: 0) == [.prewarm(VersionNumber(2), count: 1)])
        #expect(try send(.prewarmed, to: &deployment, at: 2 * Self.second) == [.invokeHook(hookRun("exec-1", .preTraffic, at: 2 * Self.second))])
        #expect(deployment.status == .preTraffic)
        #expect(offset(deployment.nextDeadline()) == 2 * Self.second + 5 * Self.minute)
    }

    @Test func aBakeWithoutAPostTrafficHookStartsAtPromotion() throws {
        var deployment = try makeDeployment(bake: 10 * Self.minute)
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.tick(evidence: 10), to: &deployment, at: 5 * Self.minute) == [.promote])
        #expect(deployment.status == .baking)
        #expect(offset(deployment.nextDeadline()) == 15 * Self.minute)
        #expect(try send(.tick(evidence: 0), to: &deployment, at: 15 * Self.minute - 1) == [])
        #expect(try send(.tick(evidence: 0), to: &deployment, at: 15 * Self.minute) == [])
        #expect(deployment.status == .succeeded)
    }

    // MARK: Steps without evidence

    @Test(arguments: HealthPolicy.NoData.allCases)
    func aStepWithEnoughEvidenceMovesOnWhateverNoDataSays(noData: HealthPolicy.NoData) throws {
        let health = try HealthPolicy(rules: [], comparison: nil, minimumInvocations: 10, noData: noData)
        var deployment = try makeDeployment(strategy: "steps:10%@1m,50%@1m", health: health, prewarm: 0)
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.tick(evidence: 10), to: &deployment, at: Self.minute) == [route(0.5)])
        #expect(deployment.stepIndex == 1)
    }

    @Test func aStepWithoutEvidenceWaitsForItWhenNoDataIsWait() throws {
        let health = try HealthPolicy(rules: [], comparison: nil, minimumInvocations: 10, noData: .wait)
        var deployment = try makeDeployment(strategy: "steps:10%@1m,50%@1m", health: health, prewarm: 0)
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.tick(evidence: 3), to: &deployment, at: Self.minute) == [])
        #expect(deployment.status == .shifting && deployment.stepIndex == 0)
        #expect(deployment.awaitingEvidence)
        #expect(deployment.history.last?.message == "step 1 waits for evidence: 3 of 10 invocations")
        let historyCount = deployment.history.count
        #expect(try send(.tick(evidence: 9), to: &deployment, at: 2 * Self.minute) == [])
        #expect(deployment.history.count == historyCount, "waiting is noted once")
        #expect(try send(.tick(evidence: 10), to: &deployment, at: 2 * Self.minute + 1) == [route(0.5)])
        #expect(!deployment.awaitingEvidence)
        #expect(offset(deployment.nextDeadline()) == 3 * Self.minute + 1, "the next step gets its full time")
    }

    @Test func aStepWithoutEvidenceRollsBackWhenNoDataIsFail() throws {
        let health = try HealthPolicy(rules: [], comparison: nil, minimumInvocations: 10, noData: .fail)
        var deployment = try makeDeployment(strategy: "steps:10%@1m,50%@1m", health: health, prewarm: 0)
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.tick(evidence: 3), to: &deployment, at: Self.minute) == [.revert])
        #expect(deployment.status == .rolledBack)
        #expect(deployment.outcome?.cause == .noEvidence)
        #expect(deployment.outcome?.message == "step 1 ended with 3 of the 10 invocations it needs")
        #expect(deployment.weight == 0)
    }

    @Test func aStepWithoutEvidenceMovesOnWhenNoDataIsPass() throws {
        let health = try HealthPolicy(rules: [], comparison: nil, minimumInvocations: 10, noData: .pass)
        var deployment = try makeDeployment(strategy: "steps:10%@1m,50%@1m", health: health, prewarm: 0)
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.tick(evidence: 3), to: &deployment, at: Self.minute) == [route(0.5)])
        #expect(deployment.stepIndex == 1)
        #expect(deployment.history.contains { $0.message == "step 1 passed without evidence (3 of 10 invocations)" })
        #expect(try send(.tick(evidence: 0), to: &deployment, at: 2 * Self.minute) == [.promote])
        #expect(deployment.status == .succeeded)
    }

    @Test func noMinimumMeansNoWait() throws {
        let health = try HealthPolicy(rules: [], comparison: nil, minimumInvocations: 0, noData: .wait)
        var deployment = try makeDeployment(health: health, prewarm: 0)
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.tick(evidence: 0), to: &deployment, at: 5 * Self.minute) == [.promote])
    }

    // MARK: Hooks

    @Test func aPreTrafficHookThatNeverReportsTimesOut() throws {
        var deployment = try makeDeployment(hooks: Hooks(preTraffic: preHook))
        try send(.start, to: &deployment, at: 0)
        #expect(offset(deployment.nextDeadline()) == 5 * Self.minute)
        #expect(try send(.tick(evidence: 0), to: &deployment, at: 5 * Self.minute - 1) == [])
        #expect(deployment.status == .preTraffic)
        #expect(try send(.tick(evidence: 0), to: &deployment, at: 5 * Self.minute) == [.revert])
        #expect(deployment.status == .rolledBack)
        #expect(deployment.outcome?.cause == .hookTimedOut)
        #expect(deployment.outcome?.message == "the BeforeAllowTraffic hook orders-pre did not report within 5m")
        #expect(deployment.hook?.state == .failed)
        #expect(try send(.hookReported(executionID: "exec-1", succeeded: true), to: &deployment, at: 6 * Self.minute) == [])
        #expect(deployment.status == .rolledBack, "a late report changes nothing")
    }

    @Test func aPostTrafficHookThatNeverReportsTimesOutAndReverts() throws {
        var deployment = try makeDeployment(hooks: Hooks(postTraffic: postHook, timeoutMilliseconds: 30 * Self.second))
        try send(.start, to: &deployment, at: 0)
        try send(.tick(evidence: 10), to: &deployment, at: 5 * Self.minute)
        #expect(deployment.status == .postTraffic)
        #expect(offset(deployment.nextDeadline()) == 5 * Self.minute + 30 * Self.second)
        #expect(try send(.tick(evidence: 0), to: &deployment, at: 5 * Self.minute + 30 * Self.second) == [.revert])
        #expect(deployment.outcome?.cause == .hookTimedOut)
        #expect(deployment.outcome?.message == "the AfterAllowTraffic hook orders-post:live did not report within 30s")
        #expect(deployment.weight == 0)
    }

    @Test func aFailedHookRollsBack() throws {
        var deployment = try makeDeployment(hooks: Hooks(preTraffic: preHook))
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.hookReported(executionID: "exec-1", succeeded: false), to: &deployment, at: Self.second) == [.revert])
        #expect(deployment.status == .rolledBack)
        #expect(deployment.outcome?.cause == .hookFailed)
        #expect(deployment.outcome?.message == "the BeforeAllowTraffic hook orders-pre reported Failed")
        #expect(deployment.hook?.state == .failed)
    }

    @Test func aReportForAnotherExecutionIsIgnored() throws {
        var deployment = try makeDeployment(hooks: Hooks(preTraffic: preHook))
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.hookReported(executionID: "exec-9", succeeded: false), to: &deployment, at: Self.second) == [])
        #expect(deployment.status == .preTraffic)
        #expect(deployment.hook?.state == .inProgress)
    }

    @Test func aManualRollbackMarksTheRunningHookFailed() throws {
        var deployment = try makeDeployment(hooks: Hooks(preTraffic: preHook))
        try send(.start, to: &deployment, at: 0)
        try send(.rollback(by: "alice", reason: nil, report: nil), to: &deployment, at: Self.second)
        #expect(deployment.hook?.state == .failed)
    }

    // MARK: Pause and resume

    @Test func pauseFreezesTheStepClockAndResumeShiftsItByThePausedTime() throws {
        var deployment = try makeDeployment(prewarm: 0)
        try send(.start, to: &deployment, at: 0)
        #expect(offset(deployment.nextDeadline()) == 5 * Self.minute)
        try send(.pause(by: "alice", reason: nil), to: &deployment, at: 2 * Self.minute)
        #expect(deployment.isPaused)
        #expect(deployment.nextDeadline() == nil)
        #expect(try send(.tick(evidence: 100), to: &deployment, at: 6 * Self.minute) == [], "paused past the deadline")
        #expect(deployment.status == .shifting)
        try send(.resume(by: "alice", reason: nil), to: &deployment, at: 12 * Self.minute)
        #expect(!deployment.isPaused)
        #expect(offset(deployment.nextDeadline()) == 15 * Self.minute, "10 paused minutes move the deadline by 10 minutes")
        #expect(try send(.tick(evidence: 100), to: &deployment, at: 15 * Self.minute - 1) == [])
        #expect(try send(.tick(evidence: 100), to: &deployment, at: 15 * Self.minute) == [.promote])
    }

    @Test func pauseFreezesTheBakeToo() throws {
        var deployment = try makeDeployment(prewarm: 0, bake: 10 * Self.minute)
        try send(.start, to: &deployment, at: 0)
        try send(.tick(evidence: 10), to: &deployment, at: 5 * Self.minute)
        #expect(offset(deployment.nextDeadline()) == 15 * Self.minute)
        try send(.pause(by: nil, reason: nil), to: &deployment, at: 6 * Self.minute)
        #expect(deployment.nextDeadline() == nil)
        #expect(try send(.tick(evidence: 0), to: &deployment, at: 20 * Self.minute) == [])
        #expect(deployment.status == .baking)
        try send(.resume(by: nil, reason: nil), to: &deployment, at: 21 * Self.minute)
        #expect(offset(deployment.nextDeadline()) == 30 * Self.minute)
        try send(.tick(evidence: 0), to: &deployment, at: 30 * Self.minute)
        #expect(deployment.status == .succeeded)
    }

    @Test func aPauseDoesNotStopAHookTimingOut() throws {
        var deployment = try makeDeployment(hooks: Hooks(preTraffic: preHook))
        try send(.start, to: &deployment, at: 0)
        try send(.pause(by: nil, reason: nil), to: &deployment, at: Self.minute)
        #expect(offset(deployment.nextDeadline()) == 5 * Self.minute)
        #expect(try send(.tick(evidence: 0), to: &deployment, at: 5 * Self.minute) == [.revert])
        #expect(deployment.outcome?.cause == .hookTimedOut)
        #expect(!deployment.isPaused, "a finished deployment is not paused")
    }

    /// Paused means traffic stays where it is: a pre-traffic hook succeeding during the pause does not
    /// shift anything; resume does, and the first step then has its whole time.
    @Test func trafficThatWouldStartWhilePausedStartsOnResumeWithTheWholeStep() throws {
        var deployment = try makeDeployment(hooks: Hooks(preTraffic: preHook), prewarm: 0)
        try send(.start, to: &deployment, at: 0)
        try send(.pause(by: "alice", reason: nil), to: &deployment, at: Self.minute)
        #expect(try send(.hookReported(executionID: "exec-1", succeeded: true), to: &deployment, at: 2 * Self.minute) == [])
        #expect(deployment.status == .preTraffic && deployment.trafficHeld && deployment.weight == 0)
        #expect(deployment.hook?.state == .succeeded)
        #expect(try send(.resume(by: "alice", reason: nil), to: &deployment, at: 3 * Self.minute) == [route(0.1)])
        #expect(deployment.status == .shifting && !deployment.trafficHeld)
        #expect(offset(deployment.nextDeadline()) == 8 * Self.minute, "resumed at 3m with the whole 5m step ahead")
    }

    /// A step that begins while paused (a manual promote is not needed: the bake) keeps its full time.
    @Test func aBakeThatBeganWhilePausedGetsItsFullTimeAfterResume() throws {
        var deployment = try makeDeployment(hooks: Hooks(postTraffic: postHook), prewarm: 0, bake: 5 * Self.minute)
        try send(.start, to: &deployment, at: 0)
        try send(.tick(evidence: 10), to: &deployment, at: 5 * Self.minute)
        #expect(deployment.status == .postTraffic)
        try send(.pause(by: nil, reason: nil), to: &deployment, at: 6 * Self.minute)
        try send(.hookReported(executionID: "exec-1", succeeded: true), to: &deployment, at: 7 * Self.minute)
        #expect(deployment.status == .baking)
        try send(.resume(by: nil, reason: nil), to: &deployment, at: 9 * Self.minute)
        #expect(offset(deployment.nextDeadline()) == 14 * Self.minute, "the bake began at 7m during the pause: all 5m remain at 9m")
    }

    @Test func pausingTwiceOrResumingWithoutAPauseIsRefused() throws {
        var deployment = try makeDeployment()
        try send(.start, to: &deployment, at: 0)
        let notPaused = #expect(throws: DeploymentError.self) { try send(.resume(by: nil, reason: nil), to: &deployment, at: 1) }
        #expect(notPaused?.code == "ActionNotAllowed")
        #expect(notPaused?.message == "deployment d-ABCDEFGHI is not paused")
        try send(.pause(by: nil, reason: nil), to: &deployment, at: 2)
        let before = deployment
        let twice = #expect(throws: DeploymentError.self) { try send(.pause(by: nil, reason: nil), to: &deployment, at: 3) }
        #expect(twice?.code == "ActionNotAllowed")
        #expect(twice?.message == "deployment d-ABCDEFGHI is already paused")
        #expect(deployment.pausedAt == before.pausedAt, "the first pause still counts")
        #expect(deployment.history == before.history)
    }

    @Test func promotingWhilePreTrafficIsRefusedWithTheStatus() throws {
        var deployment = try makeDeployment(hooks: Hooks(preTraffic: preHook))
        try send(.start, to: &deployment, at: 0)
        let error = #expect(throws: DeploymentError.self) { try send(.promote(by: nil, reason: nil), to: &deployment, at: 1) }
        #expect(error?.message == "deployment d-ABCDEFGHI cannot be promoted while PreTraffic")
        #expect(error?.kind == .conflict)
    }

    // MARK: History, actors and outcomes

    @Test func manualActionsAreRecordedWithTheirActor() throws {
        var deployment = try makeDeployment(prewarm: 0, bake: 10 * Self.minute, createdBy: "erin")
        #expect(deployment.history.first?.by == "erin")
        try send(.start, to: &deployment, at: 0)
        try send(.pause(by: "alice", reason: "investigating latency"), to: &deployment, at: Self.minute)
        #expect(deployment.history.last?.message == "paused: investigating latency")
        #expect(deployment.history.last?.by == "alice")
        #expect(deployment.history.last?.status == .shifting)
        #expect(deployment.history.last?.at == time(Self.minute))
        try send(.resume(by: "bob", reason: ""), to: &deployment, at: 2 * Self.minute)
        #expect(deployment.history.last?.message == "resumed", "an empty reason adds nothing")
        #expect(deployment.history.last?.by == "bob")
        let before = deployment.history.count
        try send(.promote(by: "carol", reason: "looks good"), to: &deployment, at: 3 * Self.minute)
        let added = deployment.history.dropFirst(before)
        #expect(added.map(\.message) == ["promoted early: looks good", "promoted: live → 2", "baking for 10m"])
        #expect(added.map(\.by) == ["carol", nil, nil])
        try send(.promote(by: "dave", reason: nil), to: &deployment, at: 4 * Self.minute)
        #expect(deployment.status == .succeeded)
        #expect(deployment.history.suffix(2).map(\.message) == ["bake ended early", "succeeded"])
        #expect(deployment.history.suffix(2).map(\.by) == ["dave", "dave"])
        #expect(deployment.outcome?.by == "dave")
        #expect(deployment.outcome?.cause == .promoted)
    }

    @Test func aManualRollbackRecordsWhoAndWhy() throws {
        var deployment = try makeDeployment()
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.rollback(by: "frank", reason: "wrong build", report: report), to: &deployment, at: Self.minute) == [.revert])
        #expect(deployment.status == .rolledBack)
        #expect(deployment.weight == 0)
        #expect(deployment.outcome == Outcome(
            cause: .manual, message: "rolled back by request: wrong build", at: time(Self.minute), by: "frank", report: report))
        #expect(deployment.history.last?.message == "rolled back to version 1: rolled back by request: wrong build")
        #expect(deployment.history.last?.by == "frank")
        #expect(deployment.history.last?.status == .rolledBack)
    }

    @Test func aFailedHealthCheckKeepsTheReportInTheOutcome() throws {
        var judge = HealthJudge(policy: try HealthPolicy(
            rules: [HealthRule.parse("errors>=1@1m")], comparison: SequentialTest.Settings(), minimumInvocations: 10, noData: .wait))
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 12, weight: 0.1, at: time(Self.minute))
        judge.recordInvocation(.baseline, failed: false, durationMilliseconds: 10, weight: 0.1, at: time(Self.minute))
        let report = judge.report(at: time(Self.minute))
        var deployment = try makeDeployment()
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.healthFailed(report), to: &deployment, at: Self.minute) == [.revert])
        #expect(deployment.status == .rolledBack)
        #expect(deployment.outcome?.cause == .healthCheck)
        #expect(deployment.outcome?.report == report)
        #expect(deployment.outcome?.report?.canary.errors == 1)
        #expect(deployment.outcome?.by == nil)
        #expect(deployment.outcome?.message == "errors>=1@1m: 1 of 1 datapoints breached errors ≥ 1 (newest first: 1.0)")
    }

    @Test func aFailedHealthCheckWithoutAFindingStillSaysSo() throws {
        var deployment = try makeDeployment()
        try send(.start, to: &deployment, at: 0)
        let bare = HealthReport(canary: VersionHealth(), baseline: VersionHealth(), comparisonEvidence: nil, stepInvocations: 0, finding: nil)
        try send(.healthFailed(bare), to: &deployment, at: Self.second)
        #expect(deployment.outcome?.message == "a health check failed")
        #expect(deployment.outcome?.report == bare)
    }

    @Test func aChangedAliasFailsTheDeploymentWithoutTouchingTheAlias() throws {
        var deployment = try makeDeployment()
        try send(.start, to: &deployment, at: 0)
        try send(.pause(by: nil, reason: nil), to: &deployment, at: Self.second)
        #expect(try send(.aliasChanged("alias live now points to version 7"), to: &deployment, at: 2 * Self.second) == [])
        #expect(deployment.status == .failed)
        #expect(!deployment.isPaused)
        #expect(deployment.outcome?.cause == .aliasChanged)
        #expect(deployment.outcome?.message == "alias live now points to version 7")
        #expect(deployment.history.last?.message == "failed: alias live now points to version 7")
    }

    @Test(arguments: [
        DeploymentEvent.promote(by: "x", reason: nil), .pause(by: "x", reason: nil), .resume(by: "x", reason: nil),
        .rollback(by: "x", reason: nil, report: nil),
    ])
    func aFinishedDeploymentRefusesRequestsNamingItsStatus(event: DeploymentEvent) throws {
        var deployment = try makeDeployment(strategy: "AllAtOnce")
        try send(.start, to: &deployment, at: 0)
        let before = deployment
        let error = #expect(throws: DeploymentError.self) { try send(event, to: &deployment, at: Self.minute) }
        #expect(error?.code == "DeploymentFinished")
        #expect(error?.kind == .conflict)
        #expect(error?.message == "deployment d-ABCDEFGHI has already finished (Succeeded)")
        #expect(deployment == before)
    }

    @Test func recoveringAShiftingDeploymentRestoresItsWeightAndNotesTheRestart() throws {
        var deployment = try makeDeployment(strategy: "Linear10PercentEvery1Minute", prewarm: 0)
        try send(.start, to: &deployment, at: 0)
        try send(.tick(evidence: 10), to: &deployment, at: Self.minute)
        try send(.tick(evidence: 10), to: &deployment, at: 2 * Self.minute)
        #expect(try send(.recover, to: &deployment, at: 2 * Self.minute + 5) == [route(0.3)])
        #expect(deployment.history.last?.message == "server restarted; resuming Shifting")
        #expect(offset(deployment.nextDeadline()) == 3 * Self.minute, "recovery keeps the step's clock")
    }

    @Test func recoveringACreatedDeploymentStartsIt() throws {
        var deployment = try makeDeployment()
        #expect(try send(.recover, to: &deployment, at: 0) == [route(0.1)])
        #expect(deployment.status == .shifting)
    }

    @Test func recoveringADeploymentThatWasWarmingUpWarmsUpAgain() throws {
        var deployment = try makeDeployment(prewarm: 2)
        try send(.start, to: &deployment, at: 0)
        #expect(try send(.recover, to: &deployment, at: Self.minute) == [.prewarm(VersionNumber(2), count: 2)])
        #expect(deployment.status == .created)
    }

    // MARK: Deadlines and state

    @Test func nextDeadlineFollowsThePhase() throws {
        var deployment = try makeDeployment(hooks: Hooks(preTraffic: preHook, postTraffic: postHook, timeoutMilliseconds: Self.minute), bake: 7 * Self.minute)
        #expect(deployment.nextDeadline() == nil, "created: the engine starts it")
        try send(.start, to: &deployment, at: 0)
        #expect(offset(deployment.nextDeadline()) == Self.minute, "the pre-traffic hook's timeout")
        try send(.hookReported(executionID: "exec-1", succeeded: true), to: &deployment, at: 10 * Self.second)
        #expect(offset(deployment.nextDeadline()) == 10 * Self.second + 5 * Self.minute, "the step's end")
        try send(.tick(evidence: 10), to: &deployment, at: 10 * Self.second + 5 * Self.minute)
        #expect(offset(deployment.nextDeadline()) == 10 * Self.second + 6 * Self.minute, "the post-traffic hook's timeout")
        try send(.hookReported(executionID: "exec-2", succeeded: true), to: &deployment, at: 20 * Self.second + 5 * Self.minute)
        #expect(offset(deployment.nextDeadline()) == 20 * Self.second + 12 * Self.minute, "the bake's end")
        try send(.tick(evidence: 0), to: &deployment, at: 20 * Self.second + 12 * Self.minute)
        #expect(deployment.nextDeadline() == nil, "succeeded")
    }

    @Test func aNewDeploymentStartsCreatedWithoutTraffic() throws {
        let deployment = try makeDeployment(createdBy: "erin")
        #expect(deployment.status == .created)
        #expect(deployment.isActive && !deployment.isPaused)
        #expect(deployment.weight == 0)
        #expect(deployment.stepIndex == 0)
        #expect(deployment.currentStep == nil)
        #expect(deployment.outcome == nil)
        #expect(deployment.updatedAt == Self.t0)
        #expect(deployment.history == [HistoryEntry(at: Self.t0, status: .created, message: "created: live 1 → 2 by Canary10Percent5Minutes", by: "erin")])
    }

    @Test func theHistoryKeepsTheLatestFiveHundredEntries() throws {
        var deployment = try makeDeployment()
        try send(.start, to: &deployment, at: 0)
        for index in Int64(1)...300 {
            try send(.pause(by: nil, reason: "\(index)"), to: &deployment, at: 2 * index)
            try send(.resume(by: nil, reason: "\(index)"), to: &deployment, at: 2 * index + 1)
        }
        #expect(deployment.history.count == 500)
        #expect(deployment.history.last?.message == "resumed: 300")
        #expect(deployment.history.first?.message == "paused: 51")
    }

    @Test func aDeploymentInFlightSurvivesJSON() throws {
        var deployment = try makeDeployment(
            strategy: "steps:1%@2m,10%@5m", hooks: Hooks(preTraffic: preHook, postTraffic: postHook), bake: Self.minute)
        try send(.start, to: &deployment, at: 0)
        try send(.hookReported(executionID: "exec-1", succeeded: true), to: &deployment, at: Self.second)
        try send(.pause(by: "alice", reason: "lunch"), to: &deployment, at: 2 * Self.second)
        let decoded = try JSONDecoder().decode(Deployment.self, from: JSONEncoder().encode(deployment))
        #expect(decoded == deployment)
    }
}

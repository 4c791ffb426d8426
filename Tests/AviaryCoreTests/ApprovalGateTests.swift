@testable import AviaryCore
import Foundation
import Testing

@Suite struct ApprovalGateTests {
    static let t0 = Timestamp(millisecondsSince1970: 1_700_000_000_000)
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000

    let ids = ExecutionIDs()
    let failing = HealthReport(
        canary: VersionHealth(), baseline: VersionHealth(), comparisonEvidence: nil, stepInvocations: 0,
        finding: HealthFinding(check: "error-rate>=50%@1m", detail: "1 of 1 datapoints breached"))

    func time(_ milliseconds: Int64) -> Timestamp {
        Timestamp(millisecondsSince1970: Self.t0.millisecondsSince1970 + milliseconds)
    }

    func makeDeployment(gate: ApprovalGate?, strategy: String = "Canary10Percent5Minutes") throws -> Deployment {
        Deployment(
            id: DeploymentID("d-GATE00001")!, function: try FunctionName(validating: "orders"),
            alias: try AliasName(validating: "live"), fromVersion: VersionNumber(1), toVersion: VersionNumber(2),
            strategy: try Strategy.parse(strategy), prewarm: 0, createdAt: Self.t0, gate: gate)
    }

    @discardableResult
    func send(_ event: DeploymentEvent, to deployment: inout Deployment, at milliseconds: Int64) throws(DeploymentError)
        -> [DeploymentEffect]
    {
        try deployment.handle(event, at: time(milliseconds), newExecutionID: ids.next)
    }

    /// A deployment waiting at a gate holding 20% for at most one hour.
    func waiting(_ gate: ApprovalGate = ApprovalGate(canaryWeight: Weight(0.2)!, timeoutMilliseconds: hour)) throws -> Deployment {
        var deployment = try makeDeployment(gate: gate)
        let effects = try send(.start, to: &deployment, at: 0)
        #expect(effects == [.route(Weight(0.2)!)])
        #expect(deployment.status == .awaitingApproval)
        return deployment
    }

    func link(_ name: String?, token: String? = nil) -> Approver {
        Approver(name: name, via: "link", tokenID: token, source: "127.0.0.1")
    }

    @Test func theGateHoldsTheCanaryWeightAndMintsTwoLinksExpiringWithIt() throws {
        let deployment = try waiting()
        #expect(deployment.weight == 0.2)
        let approval = try #require(deployment.approval)
        #expect(approval.approveTokenID == "exec-1")
        #expect(approval.rollbackTokenID == "exec-2")
        #expect(approval.expiresAt == time(Self.hour))
        #expect(approval.decision == nil)
        #expect(deployment.nextDeadline() == time(Self.hour))
        #expect(deployment.history.last?.message.contains("awaiting approval with 20%") == true)
    }

    @Test func approvalRunsTheStrategyFromItsFirstStepAndRecordsWhoApproved() throws {
        var deployment = try waiting()
        let effects = try send(.approve(link("alice", token: "exec-1"), reason: "looks good"), to: &deployment, at: 5 * Self.minute)
        #expect(effects == [.route(Weight(0.1)!)])
        #expect(deployment.status == .shifting)
        #expect(deployment.stepIndex == 0)
        let decision = try #require(deployment.approval?.decision)
        #expect(decision.kind == .approved)
        #expect(decision.by == "alice")
        #expect(decision.via == "link")
        #expect(decision.tokenID == "exec-1")
        #expect(decision.source == "127.0.0.1")
        let approved = try #require(deployment.history.first { $0.event == "approved" })
        #expect(approved.by == "alice")
        #expect(approved.message == "approved by alice via link: looks good")
        #expect(approved.source == "127.0.0.1")
        // The link is spent: a second approval is refused and changes nothing.
        let before = deployment
        #expect(throws: DeploymentError.self) {
            try send(.approve(link("alice", token: "exec-1"), reason: nil), to: &deployment, at: 6 * Self.minute)
        }
        #expect(deployment == before)
        #expect(deployment.approval?.used("exec-1")?.by == "alice")
    }

    @Test func aPolicyCanPromoteOnApproval() throws {
        var deployment = try waiting(ApprovalGate(canaryWeight: Weight(0.2)!, timeoutMilliseconds: Self.hour, afterApproval: .promote))
        let effects = try send(.approve(Approver(name: "alice", via: "api"), reason: nil), to: &deployment, at: Self.minute)
        #expect(effects == [.promote])
        #expect(deployment.status == .succeeded)
    }

    @Test func aFailingCanaryIsRolledBackWhileItWaitsAndALaterApprovalIsRefused() throws {
        var deployment = try waiting()
        let effects = try send(.healthFailed(failing), to: &deployment, at: Self.minute)
        #expect(effects == [.revert])
        #expect(deployment.status == .rolledBack)
        #expect(deployment.outcome?.cause == .healthCheck)
        #expect(deployment.approval?.decision == nil)
        #expect(throws: DeploymentError.finished(deployment.id, .rolledBack)) {
            try send(.approve(link("alice", token: "exec-1"), reason: nil), to: &deployment, at: 2 * Self.minute)
        }
    }

    @Test func theRollbackLinkRollsBackAndIsRecordedAsTheGatesDecision() throws {
        var deployment = try waiting()
        #expect(throws: DeploymentError.self) {
            try send(.reject(link("bob", token: "exec-1"), reason: nil), to: &deployment, at: Self.minute)
        }
        let effects = try send(.reject(link("bob", token: "exec-2"), reason: "p99 looks off"), to: &deployment, at: Self.minute)
        #expect(effects == [.revert])
        #expect(deployment.status == .rolledBack)
        #expect(deployment.outcome?.cause == .manual)
        #expect(deployment.outcome?.by == "bob")
        #expect(deployment.outcome?.message == "rolled back by bob via link: p99 looks off")
        #expect(deployment.approval?.decision?.kind == .rolledBack)
        #expect(deployment.approval?.decision?.tokenID == "exec-2")
        #expect(deployment.history.last?.source == "127.0.0.1")
    }

    @Test func ofTheTwoLinksOnlyOneEverActs() throws {
        var deployment = try waiting()
        try send(.approve(link("alice", token: "exec-1"), reason: nil), to: &deployment, at: Self.minute)
        let before = deployment
        #expect(throws: DeploymentError.self) {
            try send(.reject(link("bob", token: "exec-2"), reason: nil), to: &deployment, at: Self.minute)
        }
        #expect(deployment == before)
    }

    @Test func aLinkOfTheOtherActionOrAnotherGateIsRefused() throws {
        var deployment = try waiting()
        let before = deployment
        #expect(throws: DeploymentError.self) {
            try send(.approve(link("alice", token: "exec-2"), reason: nil), to: &deployment, at: Self.minute)
        }
        #expect(throws: DeploymentError.self) {
            try send(.approve(link("alice", token: "forged"), reason: nil), to: &deployment, at: Self.minute)
        }
        #expect(deployment == before)
    }

    @Test func onlyListedApproversMayDecide() throws {
        var deployment = try waiting(ApprovalGate(canaryWeight: Weight(0.2)!, timeoutMilliseconds: Self.hour, approvers: ["Alice"]))
        #expect(throws: DeploymentError.forbidden("bob may not approve deployment d-GATE00001")) {
            try send(.approve(link("bob", token: "exec-1"), reason: nil), to: &deployment, at: Self.minute)
        }
        #expect(throws: DeploymentError.self) {
            try send(.approve(link(nil, token: "exec-1"), reason: nil), to: &deployment, at: Self.minute)
        }
        #expect(throws: DeploymentError.self) {
            try send(.reject(link("bob", token: "exec-2"), reason: nil), to: &deployment, at: Self.minute)
        }
        #expect(deployment.status == .awaitingApproval)
        try send(.approve(link("alice", token: "exec-1"), reason: nil), to: &deployment, at: Self.minute)
        #expect(deployment.status == .shifting)
    }

    @Test func noDecisionInTimeRollsBackByDefault() throws {
        var deployment = try waiting()
        #expect(try send(.tick(evidence: 100), to: &deployment, at: Self.hour - 1).isEmpty)
        #expect(deployment.status == .awaitingApproval)
        let effects = try send(.tick(evidence: 100), to: &deployment, at: Self.hour)
        #expect(effects == [.revert])
        #expect(deployment.status == .rolledBack)
        #expect(deployment.outcome?.cause == .approvalTimedOut)
        #expect(deployment.outcome?.message == "no approval within 1h")
        #expect(deployment.approval?.decision?.via == "timeout")
    }

    @Test func aPolicyCanApproveOnTimeout() throws {
        var deployment = try waiting(ApprovalGate(canaryWeight: Weight(0.2)!, timeoutMilliseconds: Self.hour, onTimeout: .approve))
        let effects = try send(.tick(evidence: 0), to: &deployment, at: Self.hour)
        #expect(effects == [.route(Weight(0.1)!)])
        #expect(deployment.status == .shifting)
        #expect(deployment.approval?.decision?.kind == .approved)
        #expect(deployment.approval?.decision?.via == "timeout")
    }

    @Test func aPreApprovedGateIsPassedThroughTheSameDecisionAndSaysSo() throws {
        var deployment = try makeDeployment(gate: ApprovalGate(canaryWeight: Weight(0.2)!, preApproved: true, environment: "dev"))
        let effects = try send(.start, to: &deployment, at: 0)
        // One alias change: straight to the strategy's first step.
        #expect(effects == [.route(Weight(0.1)!)])
        #expect(deployment.status == .shifting)
        let decision = try #require(deployment.approval?.decision)
        #expect(decision.kind == .approved)
        #expect(decision.via == "policy")
        let events = deployment.history.compactMap(\.event)
        #expect(events == ["awaitingApproval", "approved"])
        #expect(deployment.history.contains { $0.message == "approved automatically: environment dev is pre-approved" })
    }

    @Test func promotingPastTheGateIsRefused() throws {
        var deployment = try waiting()
        #expect(throws: DeploymentError.self) {
            try send(.promote(by: "carol", reason: nil), to: &deployment, at: Self.minute)
        }
        #expect(deployment.status == .awaitingApproval)
    }

    @Test func anApprovalWhilePausedShiftsOnlyOnResume() throws {
        var deployment = try waiting()
        try send(.pause(by: "carol", reason: nil), to: &deployment, at: Self.minute)
        #expect(try send(.approve(Approver(name: "alice", via: "api"), reason: nil), to: &deployment, at: 2 * Self.minute).isEmpty)
        #expect(deployment.status == .awaitingApproval)
        #expect(deployment.weight == 0.2)
        #expect(deployment.nextDeadline() == nil)
        let effects = try send(.resume(by: "carol", reason: nil), to: &deployment, at: 3 * Self.minute)
        #expect(effects == [.route(Weight(0.1)!)])
        #expect(deployment.status == .shifting)
    }

    @Test func aZeroCanaryWeightHoldsAllTrafficBackUntilApproval() throws {
        var deployment = try makeDeployment(gate: ApprovalGate(canaryWeight: Weight(0)!))
        #expect(try send(.start, to: &deployment, at: 0).isEmpty)
        #expect(deployment.status == .awaitingApproval)
        #expect(deployment.weight == 0)
        #expect(try send(.recover, to: &deployment, at: 1).isEmpty)
        #expect(try send(.approve(Approver(name: "alice", via: "api"), reason: nil), to: &deployment, at: 2) == [.route(Weight(0.1)!)])
    }

    @Test func aRestartReappliesTheGatesWeight() throws {
        var deployment = try waiting()
        #expect(try send(.recover, to: &deployment, at: Self.minute) == [.route(Weight(0.2)!)])
    }

    @Test func deploymentsRecordedBeforeGatesExistedStillDecode() throws {
        let deployment = try makeDeployment(gate: nil)
        var object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(deployment)) as? [String: Any])
        #expect(object["gate"] == nil && object["notifyTargets"] == nil && object["approval"] == nil)
        object["history"] = (object["history"] as? [[String: Any]])?.map { $0.filter { $0.key != "event" && $0.key != "source" } }
        let decoded = try JSONDecoder().decode(Deployment.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(decoded == deployment)
        #expect(decoded.notify.isEmpty)
    }

    @Test func gateSettingsAreChecked() {
        #expect(throws: DeploymentError.self) { try ApprovalGate(canaryWeight: Weight(1)!).validated() }
        #expect(throws: DeploymentError.self) { try ApprovalGate(timeoutMilliseconds: 999).validated() }
        #expect(throws: DeploymentError.self) { try ApprovalGate(approvers: [""]).validated() }
        #expect((try? ApprovalGate().validated()) != nil)
    }
}

@Suite struct EnvironmentPolicyTests {
    @Test func lowerEnvironmentsArePreApprovedAndEveryOtherNameIsGated() {
        #expect(EnvironmentPolicy(name: "dev").gate.preApproved)
        #expect(EnvironmentPolicy(name: "qa").gate.preApproved)
        #expect(!EnvironmentPolicy(name: "prod").gate.preApproved)
        #expect(!EnvironmentPolicy(name: "eu-payments").gate.preApproved)
        #expect(!EnvironmentPolicy(name: "dev", requireApproval: true).gate.preApproved)
        #expect(EnvironmentPolicy.builtIn.map(\.name) == ["dev", "qa", "prod"])
        #expect(EnvironmentPolicy(name: "prod").gate.environment == "prod")
    }

    @Test func namesAreChecked() {
        for bad in ["", "1prod", "prod env", "p/rod", String(repeating: "a", count: 33)] {
            #expect(throws: DeploymentError.self) { try EnvironmentPolicy.validateName(bad) }
        }
        #expect((try? EnvironmentPolicy.validateName("prod-eu_2")) != nil)
    }

    @Test func notificationTargetsAreParsed() throws {
        #expect(try NotificationTarget.parse("slack:https://hooks.slack.com/services/T/B/X") == NotificationTarget(kind: .slack, url: "https://hooks.slack.com/services/T/B/X"))
        #expect(try NotificationTarget.parse("webhook:http://127.0.0.1:9000/events").kind == .webhook)
        #expect(try NotificationTarget.parse("https://example.com/hook").kind == .webhook)
        for bad in ["slack:", "ftp://x/y", "slack:hooks.slack.com", "webhook:http://a b/c", "slack:https://hooks.slack.com/…"] {
            #expect(throws: DeploymentError.self) { try NotificationTarget.parse(bad) }
        }
    }
}

@testable import AviaryCore
@testable import AviaryEngine
import AviaryStore
import Foundation
import Testing

/// Gates on real time: the engine holds the canary weight, keeps judging health while it waits, and
/// records every decision, refused ones included.
@Suite final class ApprovalGateEngineTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aviary-gate-\(UUID().uuidString)")
    deinit { try? FileManager.default.removeItem(at: folder) }

    func gatedRequest(_ harness: EngineHarness, gate: ApprovalGate) throws -> DeploymentRequest {
        var request = try harness.request()
        request.gate = gate
        return request
    }

    @Test func aFailingCanaryIsRolledBackWhileWaitingAndTheLateApprovalIsRefusedAndRecorded() async throws {
        let harness = try await EngineHarness(folder: folder)
        try await harness.running {
            let deployment = try await harness.engine.start(try gatedRequest(harness, gate: ApprovalGate(canaryWeight: Weight(0.25)!)))
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .awaitingApproval })
            #expect(harness.alias?.routing == AliasRouting(additionalVersion: VersionNumber(2), weight: Weight(0.25)!))
            harness.invocations(60, version: 1)
            harness.invocations(20, version: 2, failed: true)
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .rolledBack })
            #expect(harness.alias?.routing == nil)
            #expect(harness.alias?.functionVersion == .published(VersionNumber(1)))

            let approver = Approver(name: "alice", via: "link", tokenID: "late-token", source: "10.1.2.3")
            await #expect(throws: DeploymentError.finished(deployment.id, .rolledBack)) {
                try await harness.engine.act(deployment.id, .approve(approver, reason: nil))
            }
            let entries = try await harness.store.auditEntries(deployment: deployment.id)
            let refused = try #require(entries.last)
            #expect(refused.event.action == "deployment.approvalRefused")
            #expect(refused.event.actor == "alice")
            #expect(refused.event.source == "10.1.2.3")
            #expect(refused.event.details["tokenId"] == "late-token")
            #expect(entries.contains { $0.event.action == "deployment.rolledBack" && $0.event.actor == "aviary" })
            #expect(try await harness.store.verifyAudit().intact)
        }
    }

    @Test func anApprovalRacingAnAutomaticRollbackEitherWinsOrIsRefusedAndBothAreRecorded() async throws {
        let harness = try await EngineHarness(folder: folder)
        try await harness.running {
            let deployment = try await harness.engine.start(try gatedRequest(harness, gate: ApprovalGate(canaryWeight: Weight(0.25)!)))
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .awaitingApproval })
            harness.invocations(60, version: 1)
            async let approval: Result<Deployment, any Error> = {
                do { return .success(try await harness.engine.act(deployment.id, .approve(Approver(name: "alice", via: "api"), reason: nil))) }
                catch { return .failure(error) }
            }()
            harness.invocations(20, version: 2, failed: true)
            let outcome = await approval
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .rolledBack })
            let finished = try #require(try await harness.engine.deployment(deployment.id)?.0)
            let actions = try await harness.store.auditEntries(deployment: deployment.id).map { "\($0.event.action) by \($0.event.actor)" }
            switch outcome {
            case .success:
                // The approval came first: the gate says approved, and health rolled the canary back after it.
                #expect(finished.approval?.decision?.kind == .approved)
                #expect(actions.contains("deployment.approved by alice"))
                #expect(!actions.contains { $0.hasPrefix("deployment.approvalRefused") })
            case .failure:
                // The rollback came first: the approval was refused, and the refusal recorded after it.
                #expect(finished.approval?.decision == nil)
                #expect(actions.last == "deployment.approvalRefused by alice")
                #expect(!actions.contains("deployment.approved by alice"))
            }
            #expect(finished.outcome?.cause == .healthCheck)
            #expect(actions.contains("deployment.rolledBack by aviary"))
        }
    }

    @Test func anApprovalContinuesTheStrategyAndIsAuditedWithItsLink() async throws {
        let harness = try await EngineHarness(folder: folder)
        try await harness.running {
            let deployment = try await harness.engine.start(try gatedRequest(harness, gate: ApprovalGate(canaryWeight: Weight(0.25)!)))
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .awaitingApproval })
            let waiting = try #require(try await harness.engine.deployment(deployment.id)?.0)
            let links = try #require(harness.engine.signer.links(for: waiting))
            guard case .success(let token) = harness.engine.signer.verify(links.approve.split(separator: "/").last!, now: harness.clock.now) else {
                Issue.record("the engine's own link does not verify")
                return
            }
            let approver = Approver(name: "alice", via: "link", tokenID: token.id, source: "10.1.2.3")
            let approved = try await harness.engine.act(deployment.id, .approve(approver, reason: "ship it"))
            #expect(approved.status == .shifting)
            #expect(harness.alias?.routing == AliasRouting(additionalVersion: VersionNumber(2), weight: Weight(0.1)!))
            let entry = try #require(try await harness.store.auditEntries(deployment: deployment.id).first { $0.event.action == "deployment.approved" })
            #expect(entry.event.actor == "alice")
            #expect(entry.event.details["tokenId"] == token.id)
            #expect(entry.event.details["via"] == "link")
        }
    }

    @Test func announcementsFollowTheGate() throws {
        let start = Timestamp(millisecondsSince1970: 0)
        var deployment = Deployment(
            id: DeploymentID("d-ANNOUNCE1")!, function: FunctionName(trusted: "orders"), alias: AliasName(trusted: "live"),
            fromVersion: VersionNumber(1), toVersion: VersionNumber(2), strategy: try Strategy.parse("canary:10%:1m"), prewarm: 0,
            createdAt: start, gate: ApprovalGate())
        #expect(DeploymentEngine.notifications(deployment, since: nil, effects: []) == [.started])
        var before = deployment
        var effects = try deployment.handle(.start, at: start, newExecutionID: { UUID().uuidString })
        #expect(DeploymentEngine.notifications(deployment, since: before, effects: effects) == [.awaitingApproval])
        before = deployment
        effects = try deployment.handle(.approve(Approver(name: "alice", via: "api"), reason: nil), at: start, newExecutionID: { "" })
        #expect(DeploymentEngine.notifications(deployment, since: before, effects: effects) == [.approved, .stepChanged])
        before = deployment
        effects = try deployment.handle(.promote(by: "alice", reason: nil), at: start, newExecutionID: { "" })
        #expect(DeploymentEngine.notifications(deployment, since: before, effects: effects) == [.promoted])

        var preApproved = Deployment(
            id: DeploymentID("d-ANNOUNCE2")!, function: FunctionName(trusted: "orders"), alias: AliasName(trusted: "live"),
            fromVersion: VersionNumber(1), toVersion: VersionNumber(2), strategy: try Strategy.parse("canary:10%:1m"), prewarm: 0,
            createdAt: start, gate: ApprovalGate(preApproved: true, environment: "dev"))
        before = preApproved
        effects = try preApproved.handle(.start, at: start, newExecutionID: { UUID().uuidString })
        #expect(DeploymentEngine.notifications(preApproved, since: before, effects: effects) == [.approved, .stepChanged])
    }
}

@testable import AviaryCore
import AviaryEngine
import AviaryStore
import Foundation
import Testing

/// The engine on a manual clock: steps end when the test moves time, invocations are reported as the
/// runtime reports them, and the alias in the store is checked after each decision.
@Suite final class DeploymentEngineTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aviary-engine-\(UUID().uuidString)")
    deinit { try? FileManager.default.removeItem(at: folder) }

    @Test func aHealthyCanaryShiftsThenPromotesOnceTheStepHasItsEvidence() async throws {
        let harness = try await EngineHarness(folder: folder)
        try await harness.running {
            let deployment = try await harness.engine.start(try harness.request())
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .shifting })
            #expect(harness.alias?.routing == AliasRouting(additionalVersion: VersionNumber(2), weight: Weight(0.1)!))
            harness.clock.advance(seconds: 61)
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await harness.status(deployment.id) == .shifting, "the step waits for its 10 invocations")
            harness.invocations(10, version: 2)
            harness.invocations(90, version: 1)
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .succeeded })
            #expect(harness.alias?.functionVersion == .published(VersionNumber(2)))
            #expect(harness.alias?.routing == nil)
        }
    }

    @Test func aFailingCanaryIsRolledBackOnTheDecisiveInvocation() async throws {
        let harness = try await EngineHarness(folder: folder)
        try await harness.running {
            let deployment = try await harness.engine.start(try harness.request())
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .shifting })
            harness.invocations(50, version: 1)
            harness.invocations(2, version: 2, failed: true)
            try await Task.sleep(for: .milliseconds(30))
            #expect(try await harness.status(deployment.id) == .shifting, "two errors are not yet evidence")
            harness.invocations(1, version: 2, failed: true)
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .rolledBack })
            let (finished, _) = try #require(try await harness.engine.deployment(deployment.id))
            #expect(finished.status == .rolledBack)
            #expect(finished.outcome?.cause == .healthCheck)
            #expect(finished.outcome?.report?.canary.errors == 3)
            #expect(harness.alias?.functionVersion == .published(VersionNumber(1)))
        }
    }

    @Test func aPreTrafficHookGatesTheFirstShiftAndItsFailureRollsBack() async throws {
        let harness = try await EngineHarness(folder: folder)
        let hooks = Hooks(preTraffic: HookTarget(function: harness.function), timeoutMilliseconds: 60_000)
        try await harness.running {
            let deployment = try await harness.engine.start(try harness.request(hooks: hooks))
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .preTraffic })
            #expect(harness.alias?.routing == nil, "no traffic before the hook reports")
            let execution = try #require(try await harness.engine.deployment(deployment.id)?.0.hook?.id)
            await #expect(throws: HookReportError.self) {
                _ = try await harness.engine.reportHook(deploymentID: deployment.id.rawValue, executionID: "other", status: "Succeeded")
            }
            let after = try await harness.engine.reportHook(deploymentID: deployment.id.rawValue, executionID: execution, status: "Failed")
            #expect(after.status == .rolledBack)
            #expect(after.outcome?.cause == .hookFailed)
            let second = await #expect(throws: HookReportError.self) {
                _ = try await harness.engine.reportHook(deploymentID: deployment.id.rawValue, executionID: execution, status: "Succeeded")
            }
            #expect(second?.code == "LifecycleEventAlreadyCompletedException")
        }
    }

    @Test func aHookThatNeverReportsTimesOut() async throws {
        let harness = try await EngineHarness(folder: folder)
        let hooks = Hooks(preTraffic: HookTarget(function: harness.function), timeoutMilliseconds: 30_000)
        try await harness.running {
            let deployment = try await harness.engine.start(try harness.request(hooks: hooks))
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .preTraffic })
            harness.clock.advance(seconds: 31)
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .rolledBack })
            #expect(try await harness.engine.deployment(deployment.id)?.0.outcome?.cause == .hookTimedOut)
        }
    }

    @Test func oneDeploymentPerAliasAndTheAliasMustBeReady() async throws {
        let harness = try await EngineHarness(folder: folder)
        try await harness.running {
            let first = try await harness.engine.start(try harness.request())
            let conflict = await #expect(throws: DeploymentError.self) { _ = try await harness.engine.start(try harness.request(to: 3)) }
            #expect(conflict?.code == "DeploymentAlreadyActive")
            #expect(conflict?.activeDeployment == first.id)
            _ = try await harness.engine.act(first.id, .rollback(by: "test", reason: nil, report: nil))
            let same = await #expect(throws: DeploymentError.self) { _ = try await harness.engine.start(try harness.request(to: 1)) }
            #expect(same?.code == "AliasNotReady")
        }
    }

    @Test func anAliasChangedOutsideTheDeploymentIsLeftAloneAndTheDeploymentFails() async throws {
        let harness = try await EngineHarness(folder: folder)
        try await harness.running {
            let deployment = try await harness.engine.start(try harness.request(strategy: "linear:50%:1m"))
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .shifting })
            let (function, live) = (harness.function, harness.live)
            try await harness.store.update(function, scope: AccountScope()) { current, context in
                _ = try current.updateAlias(
                    name: live, functionVersion: "3", description: nil, weights: [:], expectedRevisionId: nil,
                    scope: AccountScope(), context: context)
            }
            harness.invocations(10, version: 2)
            harness.clock.advance(seconds: 61)
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .failed })
            #expect(harness.alias?.functionVersion == .published(VersionNumber(3)), "someone's fix is not overwritten")
        }
    }

    @Test func aDeploymentInFlightContinuesAfterARestart() async throws {
        let clock = ManualClock()
        let id: DeploymentID
        do {
            let harness = try await EngineHarness(folder: folder, clock: clock)
            id = try await harness.running {
                let deployment = try await harness.engine.start(try harness.request(strategy: "steps:10%@1m,50%@1m"))
                #expect(try await harness.eventually { try await harness.status(deployment.id) == .shifting })
                return deployment.id
            }
        }
        let restarted = try await EngineHarness(folder: folder, clock: clock, seed: false)
        #expect(restarted.alias?.routing?.weight == Weight(0.1), "the alias is as the deployment left it")
        try await restarted.running {
            let resumed = try await restarted.eventually {
                try await restarted.engine.deployment(id)?.0.history.last?.message.contains("restarted") == true
            }
            #expect(resumed)
            restarted.invocations(10, version: 2)
            clock.advance(seconds: 61)
            // The engine's own state, which follows the commit: the second step counts from here.
            let second = try await restarted.eventually { try await restarted.engine.deployment(id)?.0.stepIndex == 1 }
            #expect(second)
            #expect(restarted.alias?.routing?.weight == Weight(0.5))
            restarted.invocations(10, version: 2)
            clock.advance(seconds: 61)
            let succeeded = try await restarted.eventually { try await restarted.status(id) == .succeeded }
            #expect(succeeded)
            #expect(restarted.alias?.functionVersion == .published(VersionNumber(2)))
        }
    }

    /// The observer the engine installs is called on every alias invocation; storing it must not grow
    /// anything per call (a closure kept as a Mutex's generic value once grew a thunk chain per call and
    /// overflowed the stack after about a hundred thousand invocations).
    @Test func theInvocationObserverStaysFlatOverManyInvocations() async throws {
        let harness = try await EngineHarness(folder: folder)
        try await harness.running {
            let deployment = try await harness.engine.start(try harness.request(strategy: "canary:50%:1h"))
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .shifting })
            harness.invocations(150_000, version: 1)
            harness.invocations(150_000, version: 2)
            let live = try #require(try await harness.engine.deployment(deployment.id)?.1)
            #expect(live.canary.invocations == 150_000 && live.baseline.invocations == 150_000)
        }
    }

    @Test func pauseHoldsTheStepAndPromoteSkipsTheRest() async throws {
        let harness = try await EngineHarness(folder: folder)
        try await harness.running {
            let deployment = try await harness.engine.start(try harness.request(strategy: "steps:10%@1m,50%@1m"))
            #expect(try await harness.eventually { try await harness.status(deployment.id) == .shifting })
            _ = try await harness.engine.act(deployment.id, .pause(by: "ana", reason: "checking dashboards"))
            harness.invocations(10, version: 2)
            harness.clock.advance(seconds: 120)
            try await Task.sleep(for: .milliseconds(50))
            #expect(harness.alias?.routing?.weight == Weight(0.1), "a paused deployment holds its weight")
            let promoted = try await harness.engine.act(deployment.id, .promote(by: "ana", reason: "looks good"))
            #expect(promoted.status == .succeeded)
            #expect(promoted.outcome?.by == "ana")
            #expect(harness.alias?.functionVersion == .published(VersionNumber(2)))
            let finished = await #expect(throws: DeploymentError.self) { _ = try await harness.engine.act(deployment.id, .resume(by: nil, reason: nil)) }
            #expect(finished?.code == "DeploymentFinished")
        }
    }
}

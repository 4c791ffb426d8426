@testable import AviaryCore
@testable import AviaryEngine
import AviaryStore
import Foundation
import Testing

/// Releases: several aliases in lockstep, judged per function and together, rolled back all at once,
/// and restored to an earlier release in one transaction.
@Suite final class ReleaseEngineTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aviary-release-\(UUID().uuidString)")
    deinit { try? FileManager.default.removeItem(at: folder) }

    let users = FunctionName(trusted: "users")
    let carts = FunctionName(trusted: "carts")

    func harness() async throws -> EngineHarness {
        let harness = try await EngineHarness(folder: folder)
        try await harness.seed(users)
        try await harness.seed(carts)
        return harness
    }

    /// orders, users and carts from 1 to `version`.
    func releaseRequest(_ harness: EngineHarness, to version: Int = 2, strategy: String = "canary:10%:1m") throws -> DeploymentRequest {
        var request = try harness.request(to: version, strategy: strategy)
        request.release = ReleaseRequest(
            application: "shop",
            members: [users, carts].map { ReleaseRequest.Member(function: $0, alias: harness.live, toVersion: VersionNumber(version)) },
            unchanged: [])
        return request
    }

    func versions(_ harness: EngineHarness) -> [String] {
        [harness.function, users, carts].map { name in
            let alias = harness.alias(of: name)
            return "\(alias?.functionVersion.description ?? "-")" + (alias?.routing.map { "+\($0.additionalVersion)@\($0.weight.value)" } ?? "")
        }
    }

    @Test func allAliasesFollowOneScheduleAndOneFailingFunctionRollsBackTheWholeRelease() async throws {
        let harness = try await harness()
        try await harness.running {
            let release = try await harness.engine.startRelease(try releaseRequest(harness))
            #expect(release.release?.number == 1)
            #expect(release.release?.manifest.map(\.description) == ["carts:live → 2", "orders:live → 2", "users:live → 2"])
            #expect(try await harness.eventually { try await harness.status(release.id) == .shifting })
            #expect(versions(harness) == ["1+2@0.1", "1+2@0.1", "1+2@0.1"])

            // orders and carts are fine; users fails on its own.
            harness.invocations(40, version: 1)
            harness.invocations(5, version: 2)
            harness.invocations(40, version: 1, of: users)
            harness.invocations(20, version: 2, failed: true, of: users)
            #expect(try await harness.eventually { try await harness.status(release.id) == .rolledBack })
            #expect(versions(harness) == ["1", "1", "1"], "every alias of the release goes back, the healthy ones too")
            let finished = try #require(try await harness.engine.deployment(release.id)?.0)
            #expect(finished.outcome?.cause == .healthCheck)
            #expect(finished.outcome?.report?.finding?.check.hasPrefix("users") == true)

            let decisions = try await harness.store.auditEntries(deployment: release.id).map(\.event)
            #expect(decisions.map(\.action) == ["deployment.created", "deployment.shifting", "deployment.rolledBack"])
            #expect(decisions.allSatisfy { $0.function == nil && $0.details["application"] == "shop" })
            #expect(decisions.last?.details["functions"] == "orders:live 1 → 2, users:live 1 → 2, carts:live 1 → 2")
        }
    }

    @Test func aMemberAlreadyBeingDeployedOrNotReadyRefusesTheWholeRelease() async throws {
        let harness = try await harness()
        try await harness.running {
            var single = try harness.request()
            single.function = users
            let active = try await harness.engine.start(single)
            await #expect(throws: DeploymentError.alreadyActive(active.id, function: users, alias: harness.live)) {
                try await harness.engine.startRelease(try releaseRequest(harness))
            }
            #expect(harness.alias(of: carts)?.routing == nil, "nothing of the refused release moved")
            #expect(try await harness.store.lastReleaseNumber(application: "shop") == 0)
        }
    }

    @Test func restoringAnEarlierReleaseRepointsEveryAliasInOneTransactionAndIsIdempotent() async throws {
        let harness = try await harness()
        try await harness.running {
            let first = try await harness.engine.startRelease(try releaseRequest(harness, to: 2, strategy: "all-at-once"))
            #expect(try await harness.eventually { try await harness.status(first.id) == .succeeded })
            let second = try await harness.engine.startRelease(try releaseRequest(harness, to: 3, strategy: "all-at-once"))
            #expect(try await harness.eventually { try await harness.status(second.id) == .succeeded })
            #expect(versions(harness) == ["3", "3", "3"])

            let restored = try #require(try await harness.engine.restore("shop", to: 1, by: "oncall", reason: "bad day"))
            #expect(versions(harness) == ["2", "2", "2"])
            #expect(restored.release?.number == 3)
            #expect(restored.status == .succeeded)
            #expect(restored.outcome?.cause == .restored)
            #expect(restored.outcome?.by == "oncall")
            #expect(try await harness.store.release(application: "shop", number: 3)?.id == restored.id)
            #expect(try await harness.engine.restore("shop", to: 1, by: "oncall") == nil, "already there: nothing to do")
            #expect(try await harness.store.releases(application: "shop").map { $0.release!.number } == [3, 2, 1])

            await #expect(throws: DeploymentError.self) { try await harness.engine.restore("shop", to: 9, by: "oncall") }
        }
    }

    @Test func restoringDuringAReleaseRollsItBackFirst() async throws {
        let harness = try await harness()
        try await harness.running {
            let first = try await harness.engine.startRelease(try releaseRequest(harness, to: 2, strategy: "all-at-once"))
            #expect(try await harness.eventually { try await harness.status(first.id) == .succeeded })
            let second = try await harness.engine.startRelease(try releaseRequest(harness, to: 3))
            #expect(try await harness.eventually { try await harness.status(second.id) == .shifting })
            #expect(versions(harness) == ["2+3@0.1", "2+3@0.1", "2+3@0.1"])
            let restored = try await harness.engine.restore("shop", to: 1, by: "oncall")
            #expect(restored == nil, "rolling release 2 back already put every alias on release 1's versions")
            #expect(try await harness.status(second.id) == .rolledBack)
            #expect(versions(harness) == ["2", "2", "2"])
        }
    }
}

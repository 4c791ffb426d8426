@testable import AviaryCore
@testable import AviaryStore
import Foundation
import Testing

/// Deployments are saved with the alias move they imply in one transaction.
@Suite final class DeploymentStoreTests {
    let directory: TemporaryDirectory
    let scope = AccountScope()
    let name = FunctionName(trusted: "orders")
    let live = AliasName(trusted: "live")

    init() throws { directory = try TemporaryDirectory() }

    var databasePath: String { directory.path("aviary.sqlite") }

    /// `orders` with versions 1 and 2 and `live` → 1.
    func seed(_ store: RegistryStore) async throws {
        let settings = FunctionSettings(runtime: "python3.12", handler: "index.handler", role: "arn:aws:iam::123456789012:role/r")
        let (name, live) = (name, live)
        _ = try await store.create(name) { context in
            var function = try LambdaFunction.create(
                name: name, settings: settings, code: CodeArtifact(sha256: "djE=", size: 1), publish: true, context: context
            ).function
            _ = try function.updateCode(CodeArtifact(sha256: "djI=", size: 2), architectures: nil, expectedRevisionId: nil, publish: true, context: context)
            _ = try function.createAlias(name: live, functionVersion: "1", description: nil, weights: nil, scope: AccountScope(), context: context)
            return (function, ())
        }
    }

    func deployment(_ id: String, at milliseconds: Int64 = 1_700_000_000_000) throws -> Deployment {
        Deployment(
            id: DeploymentID(id)!, function: name, alias: live, fromVersion: VersionNumber(1), toVersion: VersionNumber(2),
            strategy: try Strategy.parse("canary:10%:1m"), createdAt: Timestamp(millisecondsSince1970: milliseconds))
    }

    @Test func aDeploymentAndItsAliasMoveCommitTogetherAndSurviveAReopen() async throws {
        let saved = try deployment("d-AAAAAAAAA")
        do {
            let store = try RegistryStore.open(path: databasePath)
            try await seed(store)
            let live = live
            try await store.save(saved, scope: scope) { function, context in
                _ = try function.updateAlias(
                    name: live, functionVersion: "1", description: nil, weights: ["2": 0.1], expectedRevisionId: nil,
                    scope: AccountScope(), context: context)
            }
            #expect(store.function(name)?.aliases[live]?.routing?.weight.value == 0.1)
        }
        let reopened = try RegistryStore.open(path: databasePath)
        #expect(try await reopened.deployment(saved.id) == saved)
        #expect(reopened.function(name)?.aliases[live]?.routing?.additionalVersion == VersionNumber(2))
    }

    @Test func aFailingAliasMoveSavesNeitherTheMoveNorTheDeployment() async throws {
        let store = try RegistryStore.open(path: databasePath)
        try await seed(store)
        let aliasBefore = store.function(name)?.aliases[live]
        struct Refused: Error {}
        let (attempt, scope, live) = (try deployment("d-BBBBBBBBB"), scope, live)
        await #expect(throws: Refused.self) {
            try await store.save(attempt, scope: scope) { function, _ in
                function.aliases[live]?.description = "half-done"
                throw Refused()
            }
        }
        #expect(try await store.deployment(DeploymentID("d-BBBBBBBBB")!) == nil)
        #expect(store.function(name)?.aliases[live] == aliasBefore)
    }

    @Test func listingFiltersByActivityAndPagesNewestFirst() async throws {
        let store = try RegistryStore.open(path: databasePath)
        try await seed(store)
        let ids = ["d-AAAAAAAA1", "d-AAAAAAAA2", "d-AAAAAAAA3", "d-AAAAAAAA4", "d-AAAAAAAA5"]
        for (index, id) in ids.enumerated() {
            var saved = try deployment(id, at: 1_700_000_000_000 + Int64(index) * 1000)
            if index < 3 { _ = try saved.handle(.rollback(by: "ops", reason: nil, report: nil), at: saved.createdAt, newExecutionID: { "x" }) }
            try await store.save(saved, scope: scope)
        }
        let active = try await store.deployments(activeOnly: true)
        #expect(active.map(\.id.rawValue) == ["d-AAAAAAAA5", "d-AAAAAAAA4"])
        let first = try await store.deployments(limit: 2)
        #expect(first.map(\.id.rawValue) == ["d-AAAAAAAA5", "d-AAAAAAAA4"])
        let second = try await store.deployments(after: first.last, limit: 2)
        #expect(second.map(\.id.rawValue) == ["d-AAAAAAAA3", "d-AAAAAAAA2"])
        let other = try await store.deployments(function: FunctionName(trusted: "billing"))
        #expect(other.isEmpty)
    }
}

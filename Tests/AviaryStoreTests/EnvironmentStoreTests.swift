@testable import AviaryCore
@testable import AviaryStore
import Foundation
import Testing

/// Environments are kept in SQLite with their audit entries, beside the built-in dev, qa and prod.
@Suite final class EnvironmentStoreTests {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    var databasePath: String { directory.path("aviary.sqlite") }

    func event(_ action: String) -> AuditEvent {
        AuditEvent(at: Timestamp(millisecondsSince1970: 1_700_000_000_000), actor: "ana", action: action, details: ["environment": "prod"])
    }

    @Test func builtInEnvironmentsExistUntilConfiguredAndComeBackWhenDeleted() async throws {
        let store = try RegistryStore.open(path: databasePath)
        #expect(try await store.environments().map(\.name) == ["dev", "prod", "qa"])
        #expect(try await store.environment("prod")?.requireApproval == true)
        #expect(try await store.environment("staging") == nil)
        #expect(try await store.deleteEnvironment("prod", audit: event("environment.deleted")) == false)

        let prod = EnvironmentPolicy(
            name: "prod", strategy: try Strategy.parse("linear:10%:1m"), canaryWeight: Weight(0.05)!, approvers: ["alice"],
            notify: [NotificationTarget(kind: .slack, url: "http://127.0.0.1:9/slack")])
        try await store.save(prod, audit: event("environment.updated"))
        try await store.save(EnvironmentPolicy(name: "staging"), audit: event("environment.updated"))
        #expect(try await store.environments().map(\.name) == ["dev", "prod", "qa", "staging"])
        #expect(try await store.environment("prod") == prod)

        #expect(try await store.deleteEnvironment("prod", audit: event("environment.deleted")))
        #expect(try await store.environment("prod") == EnvironmentPolicy(name: "prod"))
        #expect(try await store.auditEntries().map(\.event.action) == ["environment.updated", "environment.updated", "environment.deleted"])
        #expect(try await store.verifyAudit().intact)
    }

    @Test func aConfiguredEnvironmentSurvivesAReopenAndChainsWithLaterEntries() async throws {
        let policy = EnvironmentPolicy(name: "qa", requireApproval: true, approvalTimeoutMilliseconds: 3_600_000, onTimeout: .approve)
        do {
            let store = try RegistryStore.open(path: databasePath)
            try await store.save(policy, audit: event("environment.updated"))
        }
        let store = try RegistryStore.open(path: databasePath)
        #expect(try await store.environment("qa") == policy)
        try await store.appendAudit([event("deployment.approvalRefused")])
        #expect(try await store.auditEntries().map(\.sequence) == [1, 2])
        #expect(try await store.verifyAudit().intact)
    }
}

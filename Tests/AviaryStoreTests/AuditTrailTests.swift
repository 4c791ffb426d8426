@testable import AviaryCore
@testable import AviaryStore
import Foundation
import GRDB
import Testing

/// The audit trail is appended in the change's own transaction and hash-chained.
@Suite final class AuditTrailTests {
    let directory: TemporaryDirectory
    let scope = AccountScope()
    let name = FunctionName(trusted: "orders")

    init() throws { directory = try TemporaryDirectory() }

    var databasePath: String { directory.path("aviary.sqlite") }

    func event(_ action: String, repository: String? = nil) -> AuditEvent {
        AuditEvent(at: Timestamp(millisecondsSince1970: 1_700_000_000_000), actor: "ana", action: action, function: name, repository: repository)
    }

    func seed(_ store: RegistryStore) async throws {
        let settings = FunctionSettings(runtime: "python3.12", handler: "index.handler", role: "arn:aws:iam::123456789012:role/r")
        let name = name
        _ = try await store.create(name, audit: event("CreateFunction")) { context in
            (try LambdaFunction.create(name: name, settings: settings, code: CodeArtifact(sha256: "djE=", size: 1), publish: true, context: context).function, ())
        }
        try await store.update(name, scope: scope, audit: event("CreateAlias", repository: "shop")) { function, context in
            _ = try function.createAlias(name: AliasName(trusted: "live"), functionVersion: "1", description: nil, weights: nil, scope: AccountScope(), context: context)
        }
    }

    @Test func entriesDescribeTheChangeAndChainAcrossAReopen() async throws {
        do {
            let store = try RegistryStore.open(path: databasePath)
            try await seed(store)
        }
        let store = try RegistryStore.open(path: databasePath)
        try await store.update(name, scope: scope, audit: event("DeleteAlias")) { function, _ in function.deleteAlias(name: AliasName(trusted: "live")) }
        let entries = try await store.auditEntries()
        #expect(entries.map(\.event.action) == ["CreateFunction", "CreateAlias", "DeleteAlias"])
        #expect(entries.map(\.sequence) == [1, 2, 3])
        #expect(entries[1].event.details["change"] == "created alias live → 1")
        #expect(entries[2].previousHash == entries[1].hash, "the chain continues after a reopen")
        #expect(try await store.auditEntries(repository: "shop").map(\.sequence) == [2])
        #expect(try await store.verifyAudit() == AuditVerification(entries: 3, firstBroken: nil, problem: nil))
    }

    @Test func aRefusedChangeLeavesNoEntry() async throws {
        let store = try RegistryStore.open(path: databasePath)
        try await seed(store)
        let (name, scope) = (name, scope)
        await #expect(throws: LambdaError.self) {
            try await store.update(name, scope: scope, audit: self.event("UpdateAlias")) { function, context in
                _ = try function.updateAlias(
                    name: AliasName(trusted: "nope"), functionVersion: "1", description: nil, weights: nil, expectedRevisionId: nil,
                    scope: AccountScope(), context: context)
            }
        }
        #expect(try await store.auditEntries().count == 2)
    }

    @Test(arguments: [
        ("update audit set event = replace(event, 'ana', 'eve') where sequence = 1", Int64(1)),
        ("delete from audit where sequence = 2", Int64(3)),
        ("update audit set repository = 'other' where sequence = 2", Int64(2)),
    ])
    func editingOrDeletingAnEntryIsDetected(statement: String, broken: Int64) async throws {
        let store = try RegistryStore.open(path: databasePath)
        try await seed(store)
        try await store.update(name, scope: scope, audit: event("PutFunctionConcurrency")) { function, _ in function.reservedConcurrency = 5 }
        #expect(try await store.verifyAudit().intact)
        try await store.writer.write { try $0.execute(sql: statement) }
        let result = try await store.verifyAudit()
        #expect(result.firstBroken == broken, "\(result.problem ?? "")")
    }
}

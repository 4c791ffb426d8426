@testable import AviaryCore
@testable import AviaryStore
import Foundation
import GRDB
import Testing

let storeScope = AccountScope()

@Suite final class RegistryStoreTests {
    let directory: TemporaryDirectory
    let scope = AccountScope()
    let code = CodeArtifact(sha256: "c29tZSBjb2Rl", size: 42)
    let settings = FunctionSettings(runtime: "python3.12", handler: "index.handler", role: "arn:aws:iam::123456789012:role/r")

    init() throws { directory = try TemporaryDirectory() }

    var databasePath: String { directory.path("aviary.sqlite") }

    func createFunction(_ store: RegistryStore, _ name: String, publish: Bool = false) async throws -> LambdaFunction {
        let functionName = FunctionName(trusted: name)
        let (settings, code) = (settings, code)
        return try await store.create(functionName) { context in
            let created = try LambdaFunction.create(name: functionName, settings: settings, code: code, publish: publish, context: context)
            return (created.function, created.function)
        }
    }

    @Test func theDatabaseRunsInWALModeAndSyncsEveryCommit() async throws {
        let store = try RegistryStore.open(path: databasePath)
        let mode = try await DatabaseQueue(path: databasePath).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // 2 = FULL: a commit is on disk before the write returns, not only in the OS cache.
        let synchronous = try await store.writer.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        #expect(synchronous == 2)
    }

    @Test func aReopenedStoreShowsExactlyWhatWasCommitted() async throws {
        let before: Registry
        do {
            let store = try RegistryStore.open(path: databasePath)
            _ = try await createFunction(store, "orders", publish: true)
            let name = FunctionName(trusted: "orders")
            try await store.update(name, scope: scope) { function, context in
                _ = try function.updateCode(CodeArtifact(sha256: "bmV3", size: 7), architectures: nil, expectedRevisionId: nil, publish: true, context: context)
                _ = try function.createAlias(name: AliasName(trusted: "live"), functionVersion: "2", description: "prod", weights: nil, scope: storeScope, context: context)
                _ = try function.createAlias(name: AliasName(trusted: "beta"), functionVersion: "1", description: nil, weights: ["2": 0.25], scope: storeScope, context: context)
                try function.updateConfiguration(FunctionSettings(environment: ["STAGE": "prod"]), expectedRevisionId: nil, context: context)
            }
            try await store.update(name, scope: scope) { function, _ in function.deleteAlias(name: AliasName(trusted: "beta")) }
            try await store.update(name, scope: scope) { function, _ in try function.deleteVersion(VersionNumber(1)) }
            try await store.update(name, scope: scope) { function, context in
                try function.updateConfiguration(FunctionSettings(timeout: 9), expectedRevisionId: nil, context: context)
                _ = try function.publishVersion(context: context)
                _ = try function.updateAlias(name: AliasName(trusted: "live"), functionVersion: nil, description: nil, weights: ["3": 0.25], expectedRevisionId: nil, scope: storeScope, context: context)
            }
            _ = try await createFunction(store, "billing")
            try await store.delete(FunctionName(trusted: "billing"), scope: scope)
            before = store.registry
        }
        let reopened = try RegistryStore.open(path: databasePath)
        #expect(reopened.registry == before)
        let function = try #require(reopened.function(FunctionName(trusted: "orders")))
        #expect(function.lastVersionNumber == 3)
        #expect(function.latest.environment == ["STAGE": "prod"])
        #expect(function.versions.keys.map(\.value).sorted() == [2, 3])
        #expect(function.aliases[AliasName(trusted: "live")]?.routing == AliasRouting(additionalVersion: VersionNumber(3), weight: Weight(0.25)!))
        #expect(function.aliases.keys.map(\.rawValue) == ["live"])
        #expect(function.aliases[AliasName(trusted: "live")]?.description == "prod")
        #expect(reopened.function(FunctionName(trusted: "billing")) == nil)
    }

    @Test func functionURLConfigsAreKeptAndGoWithTheirAliasAndFunction() async throws {
        let live = AliasName(trusted: "live"), beta = AliasName(trusted: "beta")
        let name = FunctionName(trusted: "orders")
        let cors = FunctionURLConfig.Cors(allowCredentials: true, allowMethods: ["GET"], allowOrigins: ["https://a.example"], maxAge: 60)
        let before: Registry
        do {
            let store = try RegistryStore.open(path: databasePath)
            _ = try await createFunction(store, "orders", publish: true)
            _ = try await createFunction(store, "billing")
            try await store.update(name, scope: scope) { function, context in
                for alias in [live, beta] {
                    _ = try function.createAlias(name: alias, functionVersion: "1", description: nil, weights: nil, scope: storeScope, context: context)
                }
                _ = try function.createURLConfig(alias: nil, authType: .noAuth, cors: cors, invokeMode: nil, scope: storeScope, at: context.now)
                _ = try function.createURLConfig(alias: live, authType: .awsIAM, cors: nil, invokeMode: nil, scope: storeScope, at: context.now)
                _ = try function.createURLConfig(alias: beta, authType: .noAuth, cors: nil, invokeMode: nil, scope: storeScope, at: context.now)
            }
            try await store.update(FunctionName(trusted: "billing"), scope: scope) { function, context in
                _ = try function.createURLConfig(alias: nil, authType: .noAuth, cors: nil, invokeMode: nil, scope: storeScope, at: context.now)
            }
            try await store.update(name, scope: scope) { function, context in
                function.deleteAlias(name: beta)
                _ = try function.updateURLConfig(alias: live, authType: .noAuth, cors: nil, invokeMode: nil, scope: storeScope, at: context.now)
            }
            try await store.delete(FunctionName(trusted: "billing"), scope: scope)
            before = store.registry
        }
        let reopened = try RegistryStore.open(path: databasePath)
        #expect(reopened.registry == before)
        let function = try #require(reopened.function(name))
        #expect(function.urlConfigs.count == 2)
        #expect(function.urlConfigs[AliasName?.none]?.cors == cors)
        #expect(function.urlConfigs[live]?.authType == FunctionURLConfig.AuthType.noAuth)
        let rows = try await DatabaseQueue(path: databasePath).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM function_url") }
        #expect(rows == 2)  // billing's went with it
    }

    @Test func aFailedChangeLeavesSnapshotAndDatabaseUntouched() async throws {
        let store = try RegistryStore.open(path: databasePath)
        _ = try await createFunction(store, "orders", publish: true)
        let before = store.registry
        let name = FunctionName(trusted: "orders")
        await #expect(throws: LambdaError.self) {
            try await store.update(name, scope: storeScope) { function, context in
                _ = try function.publishVersion(context: context)
                try function.updateConfiguration(FunctionSettings(timeout: 5), expectedRevisionId: nil, context: context)
                // Fails after two successful changes: none of them may stick.
                _ = try function.createAlias(name: AliasName(trusted: "x"), functionVersion: "7", description: nil, weights: nil, scope: storeScope, context: context)
            }
        }
        #expect(store.registry == before)
        let onDisk = try await DatabaseQueue(path: databasePath).read { try RegistryStore.load($0) }
        #expect(onDisk == before)
    }

    @Test func creatingATakenNameConflicts() async throws {
        let store = try RegistryStore.inMemory()
        _ = try await createFunction(store, "orders")
        await #expect(throws: LambdaError.resourceConflict("Function already exist: orders")) {
            _ = try await self.createFunction(store, "orders")
        }
    }

    @Test func changingAMissingFunctionIsNotFound() async throws {
        let store = try RegistryStore.inMemory()
        let missing = LambdaError.functionNotFound("arn:aws:lambda:us-east-1:123456789012:function:ghost")
        await #expect(throws: missing) {
            try await store.update(FunctionName(trusted: "ghost"), scope: storeScope) { _, _ in }
        }
        await #expect(throws: missing) { try await store.delete(FunctionName(trusted: "ghost"), scope: storeScope) }
    }

    @Test func concurrentWritesToOneFunctionAreSerialized() async throws {
        let store = try RegistryStore.open(path: databasePath)
        _ = try await createFunction(store, "orders")
        let name = FunctionName(trusted: "orders")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    try await store.update(name, scope: storeScope) { function, context in
                        try function.updateConfiguration(FunctionSettings(description: "d\(index)"), expectedRevisionId: nil, context: context)
                        _ = try function.publishVersion(context: context)
                    }
                }
            }
            try await group.waitForAll()
        }
        let function = try #require(store.function(name))
        #expect(function.versions.count == 40)
        #expect(function.lastVersionNumber == 40)
        #expect(try RegistryStore.open(path: directory.path("aviary.sqlite")).registry == store.registry)
    }
}

extension RegistryStoreTests {
    @Test func aFailingChangeInABatchDoesNotAffectTheOthers() async throws {
        let store = try RegistryStore.open(path: databasePath)
        _ = try await createFunction(store, "orders", publish: true)
        let name = FunctionName(trusted: "orders")
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<30 {
                group.addTask {
                    do {
                        try await store.update(name, scope: storeScope) { function, context in
                            // Odd changes break a rule after mutating: they must leave no trace.
                            try function.updateConfiguration(FunctionSettings(description: "d\(index)"), expectedRevisionId: nil, context: context)
                            if index % 2 == 1 { try function.deleteVersion(VersionNumber(1)); _ = try function.createAlias(name: AliasName(trusted: "x"), functionVersion: "999", description: nil, weights: nil, scope: storeScope, context: context) }
                            _ = try function.publishVersion(context: context)
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            var outcomes: [Bool] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(results.filter { $0 }.count == 15)
        let function = try #require(store.function(name))
        #expect(function.versions.count == 16)  // version 1 is still there, plus one per successful change
        #expect(function.aliases.isEmpty)
        let reopened = try RegistryStore.open(path: directory.path("aviary.sqlite"))
        #expect(reopened.registry == store.registry)
    }
}
